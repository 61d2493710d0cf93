// StepBatcher: groups StepEvents into StepBatches of at most `batch_size` events, each stamped
// with the next sequence number, so acks can be matched to the batch they answer.
//
// Sequences run first_sequence, first_sequence + stride, ... . A stride > 1 lets several
// streams of one sender (see SendAll) use disjoint sequences, so a merged set of acked sequences
// still names exactly one batch each. Sequence 0 is never produced: it is the proto default and
// would be indistinguishable from "unset" in logs.
//
// Thread safety: not thread-safe; one owner (StepStreamClient calls it from the writing thread).
// Pure: no I/O, no clock.
#ifndef STEPLEDGER_CLIENT_LIB_STEP_BATCHER_H_
#define STEPLEDGER_CLIENT_LIB_STEP_BATCHER_H_

#include <cstdint>
#include <optional>

#include "stepledger/v1/collector.pb.h"

namespace stepledger::client {

class StepBatcher {
 public:
  // REQUIRES: batch_size >= 1, first_sequence >= 1, stride >= 1.
  StepBatcher(int batch_size, uint64_t first_sequence = 1, uint64_t stride = 1);

  // Adds one event; returns the completed batch when this event fills it.
  std::optional<stepledger::v1::StepBatch> Add(stepledger::v1::StepEvent event);

  // Returns the partly filled batch, if it holds any event, and starts a new one.
  std::optional<stepledger::v1::StepBatch> Flush();

  // Number of events waiting in the current, not yet returned batch.
  int pending() const { return current_.events_size(); }

 private:
  stepledger::v1::StepBatch TakeCurrent();

  const int batch_size_;
  const uint64_t stride_;
  uint64_t next_sequence_;
  stepledger::v1::StepBatch current_;
};

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_STEP_BATCHER_H_
