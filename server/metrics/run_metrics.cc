#include "server/metrics/run_metrics.h"

namespace stepledger::metrics {
namespace {

prometheus::Family<prometheus::Counter>& Inheritance(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("stepledger_inheritance_resolved_total")
      .Help("Steps charged to their run root's tags, by when the root was known")
      .Register(registry);
}

}  // namespace

RunMetrics::RunMetrics(prometheus::Registry& registry)
    : inherited_at_insert_(Inheritance(registry).Add({{"when", "root_known_at_insert"}})),
      resolved_by_late_root_(Inheritance(registry).Add({{"when", "root_arrived_later"}})),
      timed_out_(prometheus::BuildCounter()
                     .Name("stepledger_inheritance_timed_out_total")
                     .Help("Pending steps whose root never arrived in time (now unattributed)")
                     .Register(registry)
                     .Add({})),
      stored_pending_(prometheus::BuildCounter()
                          .Name("stepledger_pending_steps_stored_total")
                          .Help("Steps stored waiting for their run's root")
                          .Register(registry)
                          .Add({})),
      tag_drift_(prometheus::BuildCounter()
                     .Name("stepledger_tag_drift_steps_total")
                     .Help("Steps whose own feature/team/tenant disagree with their run root's")
                     .Register(registry)
                     .Add({})),
      open_runs_(prometheus::BuildGauge()
                     .Name("stepledger_open_runs")
                     .Help("Runs active in the last day whose root has not arrived")
                     .Register(registry)
                     .Add({})),
      pending_steps_(prometheus::BuildGauge()
                         .Name("stepledger_pending_steps")
                         .Help("Steps waiting for their run's root (runs active in the last day)")
                         .Register(registry)
                         .Add({})),
      drift_steps_(prometheus::BuildGauge()
                       .Name("stepledger_tag_drift_steps")
                       .Help("Steps with tag drift in runs active in the last day")
                       .Register(registry)
                       .Add({})),
      orphan_steps_(prometheus::BuildGauge()
                        .Name("stepledger_orphan_steps")
                        .Help("Steps whose parent step was never seen, in runs active in the "
                              "last hour")
                        .Register(registry)
                        .Add({})) {}

void RunMetrics::OnRunsUpdated(const domain::ingest::RunUpdateStats& stats) {
  inherited_at_insert_.Increment(static_cast<double>(stats.inherited_at_insert));
  resolved_by_late_root_.Increment(static_cast<double>(stats.resolved_by_late_root));
  stored_pending_.Increment(static_cast<double>(stats.stored_pending));
  tag_drift_.Increment(static_cast<double>(stats.tag_drift));
}

void RunMetrics::OnPendingTimedOut(int64_t steps) {
  timed_out_.Increment(static_cast<double>(steps));
}

void RunMetrics::SetOpenRuns(int64_t runs, int64_t pending_steps, int64_t drift_steps) {
  open_runs_.Set(static_cast<double>(runs));
  pending_steps_.Set(static_cast<double>(pending_steps));
  drift_steps_.Set(static_cast<double>(drift_steps));
}

}  // namespace stepledger::metrics
