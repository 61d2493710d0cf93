// What one stream (or one SendAll over several streams) achieved: the plain data a caller needs
// to report totals, show rejections, and re-send what was not confirmed stored.
//
// The invariant callers rely on: an event is counted in `totals` only if the collector acked
// its batch (acks are sent after the batch is durably committed). Every event whose batch was
// not acked, whether written or never written, is in `unacked_events`; re-sending it is
// harmless, because the collector counts an already stored event as a duplicate.
#ifndef STEPLEDGER_CLIENT_LIB_STREAM_RESULT_H_
#define STEPLEDGER_CLIENT_LIB_STREAM_RESULT_H_

#include <cstdint>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "stepledger/v1/collector.pb.h"

namespace stepledger::client {

struct StreamTotals {
  int64_t accepted = 0;    // Events stored for the first time.
  int64_t duplicates = 0;  // Events already stored with identical content.
  int64_t rejected = 0;    // Rejection entries received (one per rejected event and field).

  StreamTotals& operator+=(const StreamTotals& other) {
    accepted += other.accepted;
    duplicates += other.duplicates;
    rejected += other.rejected;
    return *this;
  }
};

struct StreamResult {
  // The stream's final gRPC status with the same code (UNAVAILABLE, RESOURCE_EXHAUSTED, ...).
  // Never OK while `unacked_events` is non-empty: a collector that ends a stream cleanly
  // without acking everything, or acks a sequence it was never sent, is reported as INTERNAL.
  absl::Status status;
  StreamTotals totals;
  std::vector<stepledger::v1::Rejection> rejections;
  absl::btree_set<uint64_t> acked_sequences;
  // Events of batches that were not acked, in sequence order, ready to be re-sent.
  std::vector<stepledger::v1::StepEvent> unacked_events;

  // True when the transport succeeded and every event was acked (rejections may still exist).
  bool all_acked() const { return status.ok() && unacked_events.empty(); }
};

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_STREAM_RESULT_H_
