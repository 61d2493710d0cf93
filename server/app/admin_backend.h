// PgAdminBackend: the collector's transport::AdminBackend, over PostgreSQL (storage/), the
// catalog loaders and the price book the collector prices with. This is where the work the
// CLI used to do against the database now lives (issue 16): rollups (storage::RollupJob),
// invoices and showback inputs (storage/showback_source.h), prices (storage::PgPriceStore)
// and the what-if history (storage/pg_budget_history.h).
//
// Thread safety: every method may be called from several threads at once; each storage call
// opens its own connection, and the pricer's book is read atomically.
// Ownership: borrows the pricer, which must outlive the backend.
#ifndef STEPLEDGER_SERVER_APP_ADMIN_BACKEND_H_
#define STEPLEDGER_SERVER_APP_ADMIN_BACKEND_H_

#include <memory>
#include <string>
#include <vector>

#include "server/app/catalog_pricer.h"
#include "server/storage/pg_price_store.h"
#include "server/transport/admin_service.h"

namespace stepledger::app {

class PgAdminBackend final : public transport::AdminBackend {
 public:
  PgAdminBackend(std::string database_url, const CatalogPricer& pricer);

  absl::StatusOr<domain::reports::RollupRunResult> RollUp(absl::CivilDay from, absl::CivilDay to,
                                                          const DayDone& on_day) override;
  absl::Status ImportInvoices(const std::vector<domain::reports::Invoice>& invoices,
                              const std::string& source,
                              const domain::auth::AuditActor& actor) override;
  absl::StatusOr<domain::reports::ShowbackInputs> LoadShowback(
      absl::CivilDay from, absl::CivilDay to, const std::string& environment) override;
  absl::StatusOr<std::vector<domain::pricing::UnpricedGroup>> ListUnpriced(
      absl::Time since, absl::Time until) override;
  absl::StatusOr<domain::pricing::PriceVersionInfo> SavePriceVersion(
      const domain::pricing::CatalogTexts& texts, absl::Time now,
      const domain::auth::AuditActor& actor) override;
  absl::StatusOr<domain::pricing::RepriceReport> Reprice(
      absl::Time since, absl::Time until, bool dry_run,
      const domain::auth::AuditActor& actor) override;
  absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> ListAdminAudit(int limit) override;
  absl::StatusOr<std::shared_ptr<const domain::pricing::PriceVersion>> PriceVersionFor(
      const std::string& catalog_text, const std::string& catalog_source, absl::Time now) override;
  absl::StatusOr<std::vector<domain::budget::HistoricalStep>> LoadBudgetHistory(
      absl::Time since, absl::Time until,
      const std::vector<domain::Environment>& environments) override;

 private:
  const std::string database_url_;
  const CatalogPricer& pricer_;
  storage::PgPriceStore price_store_;
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_ADMIN_BACKEND_H_
