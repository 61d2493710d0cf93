// Run-tree metrics: open runs, pending inheritance, drift. Counters come from the write path
// (RunObserver), gauges from a periodic read of the runs table by app/ upkeep.
//
// Thread safety: all methods are thread-safe.
#ifndef STEPLEDGER_SERVER_METRICS_RUN_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_RUN_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "server/domain/ingest/ledger_port.h"

namespace stepledger::metrics {

class RunMetrics final : public domain::ingest::RunObserver {
 public:
  explicit RunMetrics(prometheus::Registry& registry);

  void OnRunsUpdated(const domain::ingest::RunUpdateStats& stats) override;
  void OnPendingTimedOut(int64_t steps);
  void SetOpenRuns(int64_t runs, int64_t pending_steps, int64_t drift_steps);
  void SetOrphanSteps(int64_t steps) { orphan_steps_.Set(static_cast<double>(steps)); }

 private:
  prometheus::Counter& inherited_at_insert_;
  prometheus::Counter& resolved_by_late_root_;
  prometheus::Counter& timed_out_;
  prometheus::Counter& stored_pending_;
  prometheus::Counter& tag_drift_;
  prometheus::Gauge& open_runs_;
  prometheus::Gauge& pending_steps_;
  prometheus::Gauge& drift_steps_;
  prometheus::Gauge& orphan_steps_;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_RUN_METRICS_H_
