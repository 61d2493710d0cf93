#include "client/lib/ack_tracker.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace stepledger::client {

void AckTracker::OnSent(std::shared_ptr<const stepledger::v1::StepBatch> batch) {
  const uint64_t sequence = batch->sequence();
  in_flight_.emplace(sequence, std::move(batch));
}

void AckTracker::OnNeverSent(stepledger::v1::StepBatch batch) {
  const uint64_t sequence = batch.sequence();
  never_sent_.emplace(sequence, std::move(batch));
}

absl::Status AckTracker::OnAck(const stepledger::v1::BatchAck& ack) {
  auto it = in_flight_.find(ack.sequence());
  if (it == in_flight_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("collector acked sequence ", ack.sequence(), ", which is not in flight",
                     acked_.contains(ack.sequence()) ? " (acked twice)" : ""));
  }
  in_flight_.erase(it);
  acked_.insert(ack.sequence());
  totals_.accepted += ack.accepted();
  totals_.duplicates += ack.duplicates();
  totals_.rejected += ack.rejected_size();
  rejections_.insert(rejections_.end(), ack.rejected().begin(), ack.rejected().end());
  return absl::OkStatus();
}

StreamResult AckTracker::TakeResult(absl::Status status) {
  StreamResult result;
  // Merge both maps in sequence order so a re-send keeps the original order of events.
  absl::btree_map<uint64_t, const stepledger::v1::StepBatch*> unacked;
  for (const auto& [sequence, batch] : in_flight_) unacked.emplace(sequence, batch.get());
  for (const auto& [sequence, batch] : never_sent_) unacked.emplace(sequence, &batch);
  for (const auto& [sequence, batch] : unacked) {
    result.unacked_events.insert(result.unacked_events.end(), batch->events().begin(),
                                 batch->events().end());
  }
  if (status.ok() && !unacked.empty()) {
    status = absl::InternalError(
        absl::StrCat("stream ended without acks for ", unacked.size(), " batch(es)"));
  }
  result.status = std::move(status);
  result.totals = totals_;
  result.rejections = std::move(rejections_);
  result.acked_sequences = std::move(acked_);

  in_flight_.clear();
  never_sent_.clear();
  totals_ = StreamTotals();
  rejections_.clear();
  acked_.clear();
  return result;
}

}  // namespace stepledger::client
