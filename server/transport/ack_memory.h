// AckMemory: the bytes of acknowledgements that StepSteps streams have produced and not yet
// handed to gRPC, summed over every stream of the collector.
//
// Why: an ack can only be produced after its batch is committed, and it cannot be dropped, so a
// client that sends but never reads makes the collector hold its acks. Each stream already stops
// reading when it has max_inflight_batches batches committed-or-acked but not delivered; this
// shared sum adds a collector-wide bound: while it is over `soft_limit_bytes`, a stream that
// still holds undelivered acks reads nothing more until its client takes them (its own write
// completion lets it read again, so no stream waits on another). A stream holding nothing is
// never held back, so clients that read their acks are unaffected.
//
// Thread safety: all methods are thread-safe (one atomic).
#ifndef STEPLEDGER_SERVER_TRANSPORT_ACK_MEMORY_H_
#define STEPLEDGER_SERVER_TRANSPORT_ACK_MEMORY_H_

#include <atomic>
#include <cstdint>

namespace stepledger::transport {

class AckMemory {
 public:
  explicit AckMemory(int64_t soft_limit_bytes) : soft_limit_bytes_(soft_limit_bytes) {}

  void Add(int64_t bytes) { bytes_.fetch_add(bytes, std::memory_order_relaxed); }
  void Remove(int64_t bytes) { bytes_.fetch_sub(bytes, std::memory_order_relaxed); }
  bool OverLimit() const { return bytes_.load(std::memory_order_relaxed) > soft_limit_bytes_; }
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  const int64_t soft_limit_bytes_;
  std::atomic<int64_t> bytes_{0};
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_ACK_MEMORY_H_
