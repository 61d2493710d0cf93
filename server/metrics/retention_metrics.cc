#include "server/metrics/retention_metrics.h"

namespace stepledger::metrics {

RetentionMetrics::RetentionMetrics(prometheus::Registry& registry)
    : retired_(prometheus::BuildCounter()
                   .Name("stepledger_ledger_retired_days_total")
                   .Help("Days whose raw ledger was retired by this replica (rollups kept)")
                   .Register(registry)
                   .Add({})),
      blocked_(prometheus::BuildGauge()
                   .Name("stepledger_ledger_retention_blocked_days")
                   .Help("Days past the retention that the last run could not retire (not "
                         "rolled up, or the rollup differs from the ledger)")
                   .Register(registry)
                   .Add({})),
      failures_(prometheus::BuildCounter()
                    .Name("stepledger_ledger_retention_failures_total")
                    .Help("Retention runs that failed (database error or lock timeout)")
                    .Register(registry)
                    .Add({})) {}

}  // namespace stepledger::metrics
