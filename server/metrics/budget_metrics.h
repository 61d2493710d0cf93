// Budget metrics: decisions by decision and deciding scope, check latency, acknowledgements,
// reservations, and per cap utilisation, limit, alert threshold (a ratio of the limit, so an
// alert rule can compare utilisation against it), spent and seconds to period end; and the
// refresh's counter reads (full or changed only) and their rows; how old the counters are and
// how many checks were answered from stale ones, by stale policy.
// Per-cap gauges are refreshed from the engine on every budget refresh
// (read from its counters, BudgetEngine::SpendPerCap: no probe checks) and removed when their
// cap is deleted; a cap whose scope, key, period or owner changed gets fresh labels.
//
// Series bound: only `top_caps` caps have their own gauges. Slots go to caps at or over their
// limit first (so the cap alerts keep firing), then to caps past their alert threshold, then to
// the largest spenders in their current
// period; they are re-chosen every `rechoose_interval`, and between re-choices a freed slot is
// refilled and a cap that crosses its limit takes the slot of the smallest uncrossed one at
// once. Every other cap is summed into one series labelled "other" (limit, spent, utilisation
// of the sums; no period end), and stepledger_budget_caps_other counts them.
// OnCheck runs on every CheckBudget: its counter handles are looked up once per (decision,
// scope) and kept, so a check costs two atomic adds, no label map.
//
// Thread safety: all methods are thread-safe.
#ifndef STEPLEDGER_SERVER_METRICS_BUDGET_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_BUDGET_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/clock.h"

namespace stepledger::metrics {

struct CapSeriesOptions {
  size_t top_caps = 100;  // caps with their own series (--metrics-top-caps)
  absl::Duration rechoose_interval = absl::Minutes(1);
};

class BudgetMetrics final : public domain::budget::BudgetObserver {
 public:
  // REQUIRES: `registry` and `clock` outlive this object.
  BudgetMetrics(prometheus::Registry& registry, const domain::Clock& clock,
                CapSeriesOptions options = {});

  void OnCheck(const domain::budget::CheckResult& result, absl::Duration latency) override;
  void OnCheckRejected() override;
  void OnAcknowledgement() override;
  void OnRefresh(domain::budget::BudgetEngine& engine) override;
  void OnCounterRead(bool full, size_t rows) override;
  void OnCountersAge(std::optional<absl::Duration> age) override;

 private:
  struct CapGauges {
    std::shared_ptr<const domain::budget::Cap> cap;  // The version the labels were made from.
    prometheus::Gauge* utilisation;
    prometheus::Gauge* limit;
    prometheus::Gauge* threshold;
    prometheus::Gauge* spent;
    prometheus::Gauge* seconds_left;
    uint64_t seen_round = 0;  // The last refresh that saw the cap.
  };

  // The decisions counter of (decision, scope), created on first use.
  prometheus::Counter& DecisionCounter(domain::budget::Decision decision,
                                       domain::budget::Scope scope);
  // Updates slotted_ for this refresh's caps (re-choosing when due).
  void ChooseSlots(const std::vector<domain::budget::CapSpend>& caps, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sets (or, with no caps outside the slots, removes) the "other" series.
  void SetOther(size_t caps, double limit_usd, double spent_usd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  CapGauges NewGauges(const std::shared_ptr<const domain::budget::Cap>& cap);
  void RemoveGauges(const CapGauges& gauges);

  const domain::Clock& clock_;
  const CapSeriesOptions options_;
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Histogram& latency_;
  prometheus::Counter& rejected_;
  prometheus::Counter& acknowledgements_;
  prometheus::Gauge& open_reservations_;
  prometheus::Counter& reservations_made_;
  prometheus::Counter& reservations_expired_;
  // Indexed by read kind: 0 changed counters only, 1 in full.
  std::array<prometheus::Counter*, 2> spend_reads_;
  std::array<prometheus::Counter*, 2> spend_rows_read_;
  prometheus::Family<prometheus::Gauge>& utilisation_;
  prometheus::Family<prometheus::Gauge>& limit_;
  prometheus::Family<prometheus::Gauge>& threshold_;
  prometheus::Family<prometheus::Gauge>& spent_;
  prometheus::Family<prometheus::Gauge>& seconds_left_;
  prometheus::Gauge& caps_other_;
  // Checks answered from stale counters, indexed by StalePolicy: the strongest policy among
  // the check's enforced caps (kUnspecified: "none", no enforced cap matched).
  std::array<prometheus::Counter*, 4> stale_answers_;
  prometheus::Gauge& counters_age_;

  // Indexed by Decision, then Scope; null until first used.
  std::array<std::array<std::atomic<prometheus::Counter*>, 5>, 3> decision_counters_{};

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, CapGauges> caps_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> slotted_ ABSL_GUARDED_BY(mu_);  // cap ids with own series
  absl::Time last_rechoice_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // The "other" series (utilisation, limit, spent); null while no cap is outside the slots.
  std::array<prometheus::Gauge*, 3> other_ ABSL_GUARDED_BY(mu_){};
  uint64_t round_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_made_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_expired_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_BUDGET_METRICS_H_
