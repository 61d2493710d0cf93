// Ingest and write-path metrics, declared once. Implements the domain's observer ports so
// domain code counts without knowing Prometheus.
//
// Label sets are bounded: `field` is a proto field path (attributes.* folded to "attributes"),
// `reason` a short code derived from the reason's leading words, `code` an absl status code.
// Thread safety: all methods are thread-safe (prometheus-cpp metrics are atomic).
#ifndef STEPLEDGER_SERVER_METRICS_INGEST_METRICS_H_
#define STEPLEDGER_SERVER_METRICS_INGEST_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_service.h"

namespace stepledger::metrics {

class IngestMetrics final : public domain::ingest::IngestObserver,
                            public domain::ingest::CommitObserver {
 public:
  // `unattributed_spend` is stepledger_unattributed_spend_usd_total, declared once by
  // SpendMetrics; quarantined events add their reported cost to it here.
  IngestMetrics(prometheus::Registry& registry,
                prometheus::Family<prometheus::Counter>& unattributed_spend);

  // IngestObserver
  void OnEventsReceived(size_t count) override;
  void OnEventRejected(std::string_view field, std::string_view code,
                       std::optional<domain::NanoUsd> reported_cost) override;
  void OnBatchResult(const domain::ingest::BatchResult& result) override;

  // CommitObserver
  void OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                        absl::Span<const domain::ingest::Outcome> outcomes,
                        absl::Duration latency) override;
  void OnGroupFailed(const absl::Status& status, size_t events) override;

  void SetQueueDepth(size_t events) { queue_depth_.Set(static_cast<double>(events)); }
  void SetUnsentAckBytes(int64_t bytes) { unsent_ack_bytes_.Set(static_cast<double>(bytes)); }
  void SetDatabaseUp(bool up) { database_up_.Set(up ? 1 : 0); }

 private:
  prometheus::Family<prometheus::Counter>& rejected_family_;
  prometheus::Family<prometheus::Counter>& unattributed_family_;
  prometheus::Family<prometheus::Counter>& group_failures_family_;
  prometheus::Counter& received_;
  prometheus::Counter& accepted_;
  prometheus::Counter& duplicates_;
  prometheus::Counter& batches_acked_;
  prometheus::Counter& groups_committed_;
  prometheus::Counter& events_committed_;
  prometheus::Histogram& commit_latency_;
  prometheus::Histogram& group_size_;
  prometheus::Gauge& queue_depth_;
  prometheus::Gauge& unsent_ack_bytes_;
  prometheus::Gauge& database_up_;
};

// stepledger_build_info{version=...} 1
void RegisterBuildInfo(prometheus::Registry& registry, const std::string& version);

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_INGEST_METRICS_H_
