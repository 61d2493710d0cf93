#include "server/app/admin_backend.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/catalog/litellm_price_map.h"
#include "server/storage/admin_audit.h"
#include "server/storage/pg_budget_history.h"
#include "server/storage/rollup_store.h"
#include "server/storage/showback_source.h"

namespace stepledger::app {

PgAdminBackend::PgAdminBackend(std::string database_url, const CatalogPricer& pricer)
    : database_url_(std::move(database_url)), pricer_(pricer), price_store_(database_url_) {}

absl::StatusOr<domain::reports::RollupRunResult> PgAdminBackend::RollUp(absl::CivilDay from,
                                                                        absl::CivilDay to,
                                                                        const DayDone& on_day) {
  return storage::RollupJob({.database_url = database_url_, .on_locked = nullptr, .on_day = on_day})
      .Run(from, to);
}

absl::Status PgAdminBackend::ImportInvoices(const std::vector<domain::reports::Invoice>& invoices,
                                            const std::string& source,
                                            const domain::auth::AuditActor& actor) {
  return storage::ImportInvoices(database_url_, invoices, source, actor);
}

absl::StatusOr<domain::reports::ShowbackInputs> PgAdminBackend::LoadShowback(
    absl::CivilDay from, absl::CivilDay to, const std::string& environment) {
  return storage::LoadShowbackInputs(database_url_, from, to, environment);
}

absl::StatusOr<std::vector<domain::pricing::UnpricedGroup>> PgAdminBackend::ListUnpriced(
    absl::Time since, absl::Time until) {
  return price_store_.ListUnpriced(since, until);
}

absl::StatusOr<domain::pricing::PriceVersionInfo> PgAdminBackend::SavePriceVersion(
    const domain::pricing::CatalogTexts& texts, absl::Time now,
    const domain::auth::AuditActor& actor) {
  return price_store_.SaveVersion(texts, now, now, actor);
}

absl::StatusOr<domain::pricing::RepriceReport> PgAdminBackend::Reprice(
    absl::Time since, absl::Time until, bool dry_run, const domain::auth::AuditActor& actor) {
  return price_store_.Reprice(since, until, dry_run, actor);
}

absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> PgAdminBackend::ListAdminAudit(
    int limit) {
  return storage::ListAdminAudit(database_url_, limit);
}

absl::StatusOr<std::shared_ptr<const domain::pricing::PriceVersion>>
PgAdminBackend::PriceVersionFor(const std::string& catalog_text, const std::string& catalog_source,
                                absl::Time now) {
  if (catalog_text.empty()) {
    std::shared_ptr<const domain::pricing::PriceBook> book = pricer_.book();
    const domain::pricing::PriceVersion* version = book->VersionAt(now);
    if (version == nullptr) {
      return absl::NotFoundError(
          "no price version is stored yet: load one (stepledger prices load --catalog FILE)");
    }
    // Shares the book's lifetime: the book is immutable, and kept while the version is used.
    return std::shared_ptr<const domain::pricing::PriceVersion>(std::move(book), version);
  }
  absl::StatusOr<catalog::LiteLlmPriceMap> map = catalog::LoadLiteLlmPriceMap(catalog_text);
  if (!map.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("catalog_text: ", catalog_source, ": ", map.status().message()));
  }
  auto version = std::make_shared<domain::pricing::PriceVersion>();
  version->id = catalog_source.empty() ? "(catalog sent)" : catalog_source;
  version->models = std::move(map->models);
  return std::shared_ptr<const domain::pricing::PriceVersion>(std::move(version));
}

absl::StatusOr<std::vector<domain::budget::HistoricalStep>> PgAdminBackend::LoadBudgetHistory(
    absl::Time since, absl::Time until, const std::vector<domain::Environment>& environments) {
  return storage::LoadBudgetHistory(database_url_, since, until, environments);
}

}  // namespace stepledger::app
