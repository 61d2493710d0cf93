// Keeps the collector's CatalogPricer in step with the price catalog files and with the
// versions stored in PostgreSQL.
//
//  - Load(now): at start and on SIGHUP. Reads --price-catalog and --tool-prices (when set),
//    stores them as a price version taking effect at `now` (unless the newest stored version
//    has the same texts), then rebuilds the book from ALL stored versions and swaps it in, so
//    older steps keep being priced by the version in force when they occurred. A catalog that
//    does not load is not stored and the current book stays.
//  - RefreshIfChanged(): from the upkeep loop. Another replica may have stored a version; when
//    the stored versions changed, the book is rebuilt. Staleness bound: one upkeep interval
//    (steps priced by a stale book meanwhile are found by `stepledger prices reprice`).
//
// Thread safety: Load() and RefreshIfChanged() may be called from different threads (the
// signal loop and upkeep); an internal mutex serialises them.
#ifndef STEPLEDGER_SERVER_APP_PRICE_CATALOG_RELOADER_H_
#define STEPLEDGER_SERVER_APP_PRICE_CATALOG_RELOADER_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/app/catalog_pricer.h"
#include "server/metrics/pricing_metrics.h"
#include "server/storage/pg_price_store.h"

namespace stepledger::app {

class PriceCatalogReloader {
 public:
  struct Options {
    std::string model_prices_path;  // "" = no catalog file: stored versions only
    std::string tool_prices_path;   // "" = no tool prices
  };

  // REQUIRES: store, pricer and metrics (may be null) outlive this object.
  PriceCatalogReloader(Options options, storage::PgPriceStore& store, CatalogPricer& pricer,
                       metrics::PricingMetrics* metrics);

  absl::Status Load(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RefreshIfChanged() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status RebuildBook() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  storage::PgPriceStore& store_;
  CatalogPricer& pricer_;
  metrics::PricingMetrics* const metrics_;
  absl::Mutex mu_;
  std::string stamp_ ABSL_GUARDED_BY(mu_);  // VersionsStamp() of the book in use
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_PRICE_CATALOG_RELOADER_H_
