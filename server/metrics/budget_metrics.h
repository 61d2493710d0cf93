// Budget metrics: decisions by decision and deciding scope, check latency, acknowledgements,
// reservations, and per cap (bounded by the number of caps) utilisation, limit, spent and
// seconds to period end. Per-cap gauges are refreshed from the engine on every budget refresh
// and removed when their cap is deleted.
//
// Thread safety: all methods are thread-safe.
#ifndef STEPLEDGER_SERVER_METRICS_BUDGET_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_BUDGET_METRICS_H_

#include <map>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/synchronization/mutex.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/clock.h"

namespace stepledger::metrics {

class BudgetMetrics final : public domain::budget::BudgetObserver {
 public:
  BudgetMetrics(prometheus::Registry& registry, const domain::Clock& clock);

  void OnCheck(const domain::budget::CheckResult& result, absl::Duration latency) override;
  void OnCheckRejected() override;
  void OnAcknowledgement() override;
  void OnRefresh(domain::budget::BudgetEngine& engine) override;

 private:
  struct CapGauges {
    prometheus::Gauge* utilisation;
    prometheus::Gauge* limit;
    prometheus::Gauge* spent;
    prometheus::Gauge* seconds_left;
  };

  const domain::Clock& clock_;
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Histogram& latency_;
  prometheus::Counter& rejected_;
  prometheus::Counter& acknowledgements_;
  prometheus::Gauge& open_reservations_;
  prometheus::Counter& reservations_made_;
  prometheus::Counter& reservations_expired_;
  prometheus::Family<prometheus::Gauge>& utilisation_;
  prometheus::Family<prometheus::Gauge>& limit_;
  prometheus::Family<prometheus::Gauge>& spent_;
  prometheus::Family<prometheus::Gauge>& seconds_left_;

  absl::Mutex mu_;
  std::map<std::string, CapGauges> caps_ ABSL_GUARDED_BY(mu_);
  int64_t last_made_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_expired_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_BUDGET_METRICS_H_
