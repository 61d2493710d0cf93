// Ledger retention metrics (docs/OPERATING.md, "Retention"): days retired, and days past the
// retention that are held back (not rolled up, or their rollup no longer equals the ledger),
// which an operator must act on before the ledger grows without bound.
//
// Thread safety: all methods are thread-safe.
#ifndef STEPLEDGER_SERVER_METRICS_RETENTION_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_RETENTION_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>

namespace stepledger::metrics {

class RetentionMetrics {
 public:
  explicit RetentionMetrics(prometheus::Registry& registry);

  void OnDaysRetired(int64_t days) { retired_.Increment(static_cast<double>(days)); }
  void SetBlockedDays(int64_t days) { blocked_.Set(static_cast<double>(days)); }
  void OnFailure() { failures_.Increment(); }

 private:
  prometheus::Counter& retired_;
  prometheus::Gauge& blocked_;
  prometheus::Counter& failures_;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_RETENTION_METRICS_H_
