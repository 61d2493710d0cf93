// AckTracker: the bookkeeping of one stream: which batches are written and awaiting an ack,
// which were never written, and what the acks said. It is the single place that decides what
// counts as stored, so StepStreamClient only moves bytes and waits.
//
// Acks may arrive in any order; they are matched by sequence. An ack for a sequence that is not
// in flight (unknown, or acked twice) is a protocol violation and is reported as an error,
// never silently counted.
//
// Thread safety: not thread-safe. StepStreamClient guards its instance with a mutex.
// Ownership: in-flight batches are shared with the writer, which may still be serialising a
// batch while its ack is processed.
#ifndef STEPLEDGER_CLIENT_LIB_ACK_TRACKER_H_
#define STEPLEDGER_CLIENT_LIB_ACK_TRACKER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "client/lib/stream_result.h"
#include "stepledger/v1/collector.pb.h"

namespace stepledger::client {

class AckTracker {
 public:
  // Records a batch as written (or about to be) and awaiting its ack.
  // REQUIRES: batch->sequence() was never passed to OnSent or OnNeverSent before.
  void OnSent(std::shared_ptr<const stepledger::v1::StepBatch> batch);

  // Records a batch that will never be written because the stream has ended.
  void OnNeverSent(stepledger::v1::StepBatch batch);

  // Matches an ack to its in-flight batch and adds its counts to the totals. Returns
  // FailedPrecondition, and counts nothing, when the sequence is not in flight.
  absl::Status OnAck(const stepledger::v1::BatchAck& ack);

  // Batches written and not yet acked.
  int in_flight() const { return static_cast<int>(in_flight_.size()); }

  // Moves everything into a result carrying `status`. If `status` is OK but some batch is
  // unacked, the result's status becomes INTERNAL: a clean end must mean everything was acked.
  // The tracker is empty afterwards.
  StreamResult TakeResult(absl::Status status);

 private:
  absl::btree_map<uint64_t, std::shared_ptr<const stepledger::v1::StepBatch>> in_flight_;
  absl::btree_map<uint64_t, stepledger::v1::StepBatch> never_sent_;
  StreamTotals totals_;
  std::vector<stepledger::v1::Rejection> rejections_;
  absl::btree_set<uint64_t> acked_;
};

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_ACK_TRACKER_H_
