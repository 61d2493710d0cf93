// Spend metrics: what committed steps cost, by who pays. Fed by the write path after each
// committed group (CommitObserver), so a value on /metrics is always durable in PostgreSQL.
//
// Counted once: only items whose outcome is Outcome::kAccepted (stored for the first time) are
// counted. Duplicates, conflicts and re-sends add nothing, so a client that re-sends an unacked
// batch never inflates spend. Quarantined events are counted as unattributed spend by
// IngestMetrics (reason "quarantined"), through the family this class owns.
//
// Attribution is as known at commit: a step stored while waiting for its run's root is counted
// under feature/team/tenant "(pending)" and as unattributed spend with reason
// "pending_at_commit"; the nightly rollup charges it to the root once known. Counters never move
// spend between series.
//
// Cardinality: every client-derived value (feature, team, the feature/team pair, tenant) passes
// through the LabelGuard; enums (workload_class, environment, kind, bucket) are closed sets.
// Bounds are in docs/METRICS.md.
//
// Thread safety: OnGroupCommitted may run on several writer threads at once; it keeps no state
// of its own besides prometheus-cpp metrics (atomic) and the guard (locked).
#ifndef STEPLEDGER_SERVER_METRICS_SPEND_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_SPEND_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "server/domain/ingest/group_committer.h"
#include "server/metrics/label_guard.h"

namespace stepledger::metrics {

// Label names the guard keeps limits for (flags set them; see config).
inline constexpr std::string_view kFeatureLabel = "feature";
inline constexpr std::string_view kTeamLabel = "team";
inline constexpr std::string_view kFeatureTeamLabel = "feature_team";  // the pair, as one value
inline constexpr std::string_view kTenantLabel = "tenant";

class SpendMetrics final : public domain::ingest::CommitObserver {
 public:
  // REQUIRES: `registry` and `guard` outlive this object.
  SpendMetrics(prometheus::Registry& registry, LabelGuard& guard);

  void OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                        absl::Span<const domain::ingest::Outcome> outcomes,
                        absl::Duration latency) override;
  void OnGroupFailed(const absl::Status&, size_t) override {}

  // stepledger_unattributed_spend_usd_total{reason}: declared here once; IngestMetrics adds
  // the quarantined reasons through this reference.
  prometheus::Family<prometheus::Counter>& unattributed_family() { return unattributed_family_; }

 private:
  LabelGuard& guard_;
  prometheus::Family<prometheus::Counter>& spend_family_;
  prometheus::Family<prometheus::Counter>& tokens_family_;
  prometheus::Family<prometheus::Counter>& tenant_family_;
  prometheus::Family<prometheus::Counter>& retry_family_;
  prometheus::Family<prometheus::Counter>& unattributed_family_;
  prometheus::Family<prometheus::Counter>& steps_family_;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_SPEND_METRICS_H_
