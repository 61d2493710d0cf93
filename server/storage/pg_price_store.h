// PgPriceStore: price catalog versions in PostgreSQL (price_versions), the unpriced-step
// listing, and re-pricing as explicit correction entries (cost_corrections). Migration 0003.
//
// Versions keep the catalog text they were loaded from; LoadBook() rebuilds every version
// with the catalog loaders, so a version means the same prices forever, wherever it is read.
//
// Versions are append-only in time: SaveVersion() takes an advisory lock and never lets a new
// version take effect at or before the newest stored one (it moves effective_from just past
// it). The very first version takes effect at the Unix epoch: there is no earlier catalog, so
// it prices everything that occurred before it was loaded. The version in force at any past
// instant therefore never changes, which is what makes past costs explainable and re-pricing
// repeatable. Saving the texts of the newest version
// again returns that version (created = false): a restart or a SIGHUP with unchanged files
// does not make a new version. Going back to an older catalog does make a new version (with
// the old text), because it takes effect from now on.
//
// Reprice() never updates steps.cost_nano_usd. It inserts one correction per step whose
// effective cost (stored cost + earlier corrections) differs from what the rule in
// domain/pricing/reprice.h gives, all in one transaction under an advisory lock; the unique
// key (parent_run_id, event_id, price_version) makes a second run with the same versions
// insert nothing.
//
// Audit: a stored version and a reprice that corrects (not a dry run) each write their
// admin_audit row (admin_audit.h) naming `actor` in the same transaction.
//
// Connections: one short-lived connection per call; these are start-up, reload and admin
// operations, not the write path.
// Thread safety: every method may be called from any thread (no shared mutable state).
// libpqxx exceptions never leave this class: they become absl::Status (pg_status.h).
#ifndef STEPLEDGER_SERVER_STORAGE_PG_PRICE_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_PG_PRICE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/auth/audit.h"
#include "server/domain/pricing/price_admin.h"
#include "server/domain/pricing/price_book.h"
#include "server/domain/step.h"

namespace stepledger::storage {

using domain::pricing::CatalogTexts;
using domain::pricing::Correction;
using domain::pricing::PriceVersionInfo;
using domain::pricing::RepriceReport;
using domain::pricing::UnpricedGroup;

class PgPriceStore {
 public:
  explicit PgPriceStore(std::string database_url);

  // Validates both texts with the catalog loaders (a catalog that does not load is never
  // stored), then stores them as a new version taking effect at `effective_from` (moved to
  // just after the newest version when not later than it; the Unix epoch for the first
  // version), unless the newest version has the same checksum (then nothing is written, not
  // even an audit row). Errors: InvalidArgument (catalog does not load), Unavailable, Internal.
  absl::StatusOr<PriceVersionInfo> SaveVersion(const CatalogTexts& texts, absl::Time effective_from,
                                               absl::Time loaded_at,
                                               const domain::auth::AuditActor& actor);

  // Every stored version, rebuilt from its stored text. An empty book when none is stored.
  absl::StatusOr<domain::pricing::PriceBook> LoadBook();

  // Version metadata, oldest first (no catalog text).
  absl::StatusOr<std::vector<PriceVersionInfo>> ListVersions();

  // Cheap change detection for replicas: "<count>/<newest id>".
  absl::StatusOr<std::string> VersionsStamp();

  // Steps in [since, until) stored unpriced and not corrected since, grouped by model, tool
  // and reason, most steps first.
  absl::StatusOr<std::vector<UnpricedGroup>> ListUnpriced(absl::Time since, absl::Time until);

  // Re-prices steps that occurred in [since, until) and have no reported cost, with the book
  // rebuilt from the stored versions, inserting corrections (unless dry_run) in one
  // transaction with its audit row. Errors: Unavailable, Aborted (concurrent change; safe to
  // retry), Internal.
  absl::StatusOr<RepriceReport> Reprice(absl::Time since, absl::Time until, bool dry_run,
                                        const domain::auth::AuditActor& actor);

 private:
  const std::string database_url_;
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_PRICE_STORE_H_
