#include "server/metrics/retention_metrics.h"

namespace stepledger::metrics {

RetentionMetrics::RetentionMetrics(prometheus::Registry& registry)
    : retired_(prometheus::BuildCounter()
                   .Name("stepledger_ledger_retirements_total")
                   .Help("Ledger days retired by this replica (raw ledger gone, rollups kept)")
                   .Register(registry)
                   .Add({})),
      blocked_(prometheus::BuildGauge()
                   .Name("stepledger_ledger_retention_held_back")
                   .Help("Ledger days past the retention that the last run held back (not "
                         "rolled up, or the rollup differs from the ledger)")
                   .Register(registry)
                   .Add({})),
      failures_(prometheus::BuildCounter()
                    .Name("stepledger_ledger_retention_failures_total")
                    .Help("Retention runs that failed (database error or lock timeout)")
                    .Register(registry)
                    .Add({})) {}

}  // namespace stepledger::metrics
