#include "server/metrics/ingest_metrics.h"

#include <string>

namespace stepledger::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

}  // namespace

IngestMetrics::IngestMetrics(prometheus::Registry& registry,
                             prometheus::Family<prometheus::Counter>& unattributed_spend)
    : rejected_family_(BuildCounter()
                           .Name("stepledger_events_rejected_total")
                           .Help("Events rejected (kept in quarantine), by field and reason")
                           .Register(registry)),
      unattributed_family_(unattributed_spend),
      group_failures_family_(BuildCounter()
                                 .Name("stepledger_write_groups_failed_total")
                                 .Help("Write groups whose transaction failed, by status code")
                                 .Register(registry)),
      received_(BuildCounter()
                    .Name("stepledger_events_received_total")
                    .Help("Events received on StreamSteps")
                    .Register(registry)
                    .Add({})),
      accepted_(BuildCounter()
                    .Name("stepledger_events_accepted_total")
                    .Help("Events stored in the ledger for the first time")
                    .Register(registry)
                    .Add({})),
      duplicates_(BuildCounter()
                      .Name("stepledger_events_duplicate_total")
                      .Help("Events re-sent with identical content (not stored again)")
                      .Register(registry)
                      .Add({})),
      batches_acked_(BuildCounter()
                         .Name("stepledger_batches_acked_total")
                         .Help("Batches acknowledged after COMMIT")
                         .Register(registry)
                         .Add({})),
      groups_committed_(BuildCounter()
                            .Name("stepledger_write_groups_committed_total")
                            .Help("Write groups (one transaction each) committed")
                            .Register(registry)
                            .Add({})),
      events_committed_(BuildCounter()
                            .Name("stepledger_write_events_committed_total")
                            .Help("Events in committed write groups (ledger + quarantine)")
                            .Register(registry)
                            .Add({})),
      commit_latency_(
          BuildHistogram()
              .Name("stepledger_commit_latency_seconds")
              .Help("Time to commit one write group, retries included")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025,
                                                               0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})),
      group_size_(BuildHistogram()
                      .Name("stepledger_write_group_events")
                      .Help("Events per write group")
                      .Register(registry)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 100, 500, 1000, 2000,
                                                                       5000, 10000})),
      queue_depth_(BuildGauge()
                       .Name("stepledger_write_queue_events")
                       .Help("Events queued for or being committed by the writers")
                       .Register(registry)
                       .Add({})),
      unsent_ack_bytes_(BuildGauge()
                            .Name("stepledger_unsent_ack_bytes")
                            .Help("Bytes of acks made and not yet taken by their clients, over "
                                  "every stream (soft bound 64 MiB)")
                            .Register(registry)
                            .Add({})),
      database_up_(BuildGauge()
                       .Name("stepledger_database_up")
                       .Help("1 when the last write group reached PostgreSQL, else 0")
                       .Register(registry)
                       .Add({})) {}

void IngestMetrics::OnEventsReceived(size_t count) {
  received_.Increment(static_cast<double>(count));
}

void IngestMetrics::OnEventRejected(std::string_view field, std::string_view code,
                                    std::optional<domain::NanoUsd> reported_cost) {
  rejected_family_.Add({{"field", std::string(field)}, {"reason", std::string(code)}}).Increment();
  if (reported_cost.has_value()) {
    unattributed_family_.Add({{"reason", code == "conflict" ? "conflict" : "quarantined"}})
        .Increment(static_cast<double>(*reported_cost) / 1e9);
  }
}

void IngestMetrics::OnBatchResult(const domain::ingest::BatchResult& result) {
  accepted_.Increment(static_cast<double>(result.accepted));
  duplicates_.Increment(static_cast<double>(result.duplicates));
  batches_acked_.Increment();
}

void IngestMetrics::OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                                     absl::Span<const domain::ingest::Outcome> outcomes,
                                     absl::Duration latency) {
  groups_committed_.Increment();
  events_committed_.Increment(static_cast<double>(items.size()));
  commit_latency_.Observe(absl::ToDoubleSeconds(latency));
  group_size_.Observe(static_cast<double>(items.size()));
  database_up_.Set(1);
}

void IngestMetrics::OnGroupFailed(const absl::Status& status, size_t events) {
  group_failures_family_.Add({{"code", absl::StatusCodeToString(status.code())}}).Increment();
  if (absl::IsUnavailable(status)) database_up_.Set(0);
}

void RegisterBuildInfo(prometheus::Registry& registry, const std::string& version) {
  BuildGauge()
      .Name("stepledger_build_info")
      .Help("Build information; always 1")
      .Register(registry)
      .Add({{"version", version}})
      .Set(1);
}

}  // namespace stepledger::metrics
