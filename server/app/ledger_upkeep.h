// LedgerUpkeep: what the collector does to its ledger between requests, as the steps of the
// upkeep loops app::Run starts (each on a PeriodicTask):
//  - RunsAndPrices() every --upkeep-interval: picks up a price version stored by another
//    replica, moves pending steps whose run's root never arrived (older than
//    --pending-inheritance-wait) to unattributed, and sets the open-run gauges. The expiry
//    takes an advisory lock, so with several replicas one of them does it.
//  - Partitions() every hour: the day partitions around today exist (tomorrow's before
//    midnight).
//  - Retention() every hour, with a retention set: retires the raw ledger of days past it
//    (storage/ledger_retention.h); one replica at a time, under the rollup lock.
// Failures are logged (and counted where a metric exists); the next period tries again.
//
// Thread safety: the two methods may run at once on different threads (each storage call opens
// its own connection); each must not run concurrently with itself.
// Ownership: borrows the metrics and the reloader, which must outlive it.
#ifndef STEPLEDGER_SERVER_APP_LEDGER_UPKEEP_H_
#define STEPLEDGER_SERVER_APP_LEDGER_UPKEEP_H_

#include <string>

#include "absl/time/time.h"
#include "server/app/price_catalog_reloader.h"
#include "server/metrics/retention_metrics.h"
#include "server/metrics/run_metrics.h"

namespace stepledger::app {

class LedgerUpkeep {
 public:
  struct Options {
    std::string database_url;
    absl::Duration pending_inheritance_wait;
    int partition_days_ahead = 3;
    int retention_days = 0;  // 0: Retention() does nothing
    bool retention_detach = false;
  };

  LedgerUpkeep(Options options, metrics::RunMetrics& run_metrics,
               metrics::RetentionMetrics& retention_metrics, PriceCatalogReloader& price_reloader)
      : options_(std::move(options)),
        run_metrics_(run_metrics),
        retention_metrics_(retention_metrics),
        price_reloader_(price_reloader) {}

  void RunsAndPrices();
  void Partitions();
  void Retention();

 private:
  const Options options_;
  metrics::RunMetrics& run_metrics_;
  metrics::RetentionMetrics& retention_metrics_;
  PriceCatalogReloader& price_reloader_;
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_LEDGER_UPKEEP_H_
