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
// Cardinality: feature, team and the feature/team pair pass through the LabelGuard; tenants hold
// one of `top_tenants` slots chosen by largest recent spend and re-chosen every minute
// (TopSpenders), the rest are counted as tenant="other". Enums (workload_class, environment,
// kind, bucket) are closed sets. Bounds are in docs/METRICS.md.
//
// Tenant series and counter semantics: every dollar is added to exactly one tenant series, the
// one the tenant holds when its step commits (its own slot, else "other"), so the tenant series'
// increase() and rate() always sum to the spend family's. A tenant that loses its slot has its
// series removed (its later spend goes to "other"); one that gains a slot gets a series from 0.
//
// Thread safety: OnGroupCommitted may run on several writer threads at once; besides
// prometheus-cpp metrics (atomic) and the guard (locked), its state is the tenant slots, under
// `mu_`.
#ifndef STEPLEDGER_SERVER_METRICS_SPEND_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_SPEND_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/domain/clock.h"
#include "server/domain/ingest/group_committer.h"
#include "server/metrics/label_guard.h"
#include "server/metrics/top_spenders.h"

namespace stepledger::metrics {

// Label names the guard keeps limits for (flags set them; see config).
inline constexpr std::string_view kFeatureLabel = "feature";
inline constexpr std::string_view kTeamLabel = "team";
inline constexpr std::string_view kFeatureTeamLabel = "feature_team";  // the pair, as one value
inline constexpr std::string_view kTenantLabel = "tenant";             // TopSpenders, not the guard

struct TenantSeriesOptions {
  size_t top_tenants = 50;  // tenants with their own series (--metrics-top-tenants)
  absl::Duration rechoose_interval = absl::Minutes(1);
};

class SpendMetrics final : public domain::ingest::CommitObserver {
 public:
  // REQUIRES: `registry`, `guard` and `clock` outlive this object.
  SpendMetrics(prometheus::Registry& registry, LabelGuard& guard, const domain::Clock& clock,
               TenantSeriesOptions options = {});

  void OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                        absl::Span<const domain::ingest::Outcome> outcomes,
                        absl::Duration latency) override;
  void OnGroupFailed(const absl::Status&, size_t) override {}

  // stepledger_unattributed_spend_usd_total{reason}: declared here once; IngestMetrics adds
  // the quarantined reasons through this reference.
  prometheus::Family<prometheus::Counter>& unattributed_family() { return unattributed_family_; }

 private:
  // Adds one group's spend per tenant to the tenant series (re-choosing slots when due).
  // REQUIRES: `spend` sorted by tenant.
  void CountTenants(absl::Span<const std::pair<absl::string_view, domain::NanoUsd>> spend)
      ABSL_LOCKS_EXCLUDED(mu_);

  LabelGuard& guard_;
  prometheus::Family<prometheus::Counter>& spend_family_;
  prometheus::Family<prometheus::Counter>& tokens_family_;
  prometheus::Family<prometheus::Counter>& tenant_family_;
  prometheus::Family<prometheus::Counter>& retry_family_;
  prometheus::Family<prometheus::Counter>& unattributed_family_;
  prometheus::Family<prometheus::Counter>& steps_family_;
  prometheus::Counter& tenant_other_;

  absl::Mutex mu_;
  TopSpenders top_tenants_ ABSL_GUARDED_BY(mu_);
  // The series of each tenant holding a slot (created at 0 when it gains the slot).
  absl::flat_hash_map<std::string, prometheus::Counter*> tenant_series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_SPEND_METRICS_H_
