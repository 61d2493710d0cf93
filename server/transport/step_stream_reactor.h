// One StreamSteps call. See collector_service.h for the contract.
//
// The stream is read and written as raw bytes: StepBatchReader turns each message into events
// (leniently, so one event that protobuf would refuse is quarantined instead of ending the
// stream), and acks are serialized as soon as they are made, so what a stream holds is counted
// in bytes (AckMemory).
//
// Flow control: the stream reads the next batch only while its batches waiting for COMMIT plus
// its acks not yet delivered to gRPC stay under max_inflight_batches, and, while the collector's
// undelivered acks are over their bound, only when it holds none itself. A client that never
// reads its acks therefore stops being read (HTTP/2 flow control then stops the client), and
// holds at most max_inflight_batches acks.
//
// Lifetime: created by CollectorService::StreamSteps, deletes itself in OnDone(). Finish() is
// only called once no batch is waiting for the writer and no ack write is outstanding, so no
// writer callback can reach a deleted reactor.
//
// Thread safety: reactions run on gRPC threads, commit completions on writer threads; all
// state is guarded by mu_. gRPC operations (StartRead/StartWrite/Finish) are issued after
// releasing mu_, with the decision taken under it.
#ifndef STEPLEDGER_SERVER_TRANSPORT_STEP_STREAM_REACTOR_H_
#define STEPLEDGER_SERVER_TRANSPORT_STEP_STREAM_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/transport/ack_memory.h"
#include "server/transport/authorizer.h"
#include "server/transport/step_batch_reader.h"

namespace stepledger::transport {

class StepStreamReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  struct Options {
    int max_inflight_batches = 16;
    size_t max_quarantine_event_bytes = 16 * 1024;
    // The authenticated caller: events outside its scopes are rejected one by one.
    // REQUIRES: not null.
    PrincipalPtr caller;
    // Over the caller's ingest rate, a batch is not submitted (and not acked) and the stream
    // ends with RESOURCE_EXHAUSTED carrying the retry delay. Null: no limit.
    domain::ingest::IngestRateLimiter* rate_limiter = nullptr;
  };

  // REQUIRES: `ingest` and `ack_memory` outlive the reactor.
  StepStreamReactor(domain::ingest::IngestService& ingest, AckMemory& ack_memory, Options options);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to do once mu_ is released.
  struct Actions {
    bool start_read = false;
    const grpc::ByteBuffer* start_write = nullptr;
    bool finish = false;
    grpc::Status finish_status;
  };

  // A message arrived in read_buffer_: submits its batch, plans what follows.
  void OnBatchRead(Actions& actions);
  // Reads read_buffer_ and submits its events; returns what failed the stream, if anything.
  absl::Status SubmitBatch();
  void OnCommitted(uint64_t sequence, absl::StatusOr<domain::ingest::BatchResult> result);
  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the stream may take its next batch now (flow control; see the class comment).
  bool ReadAllowedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PlanLocked(Actions& actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Execute(const Actions& actions);

  domain::ingest::IngestService& ingest_;
  AckMemory& ack_memory_;
  const Options options_;
  // Only touched between StartRead and the end of OnReadDone's submission.
  grpc::ByteBuffer read_buffer_;
  StepBatchReader reader_;

  absl::Mutex mu_;
  int inflight_ ABSL_GUARDED_BY(mu_) = 0;  // batches submitted, not yet committed
  // A StartRead is outstanding, or its batch is still being converted: read_buffer_ is busy.
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;  // client half-closed
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);  // first error; ends the stream
  // Serialized acks not yet delivered (the front one is being written while writing_).
  std::deque<grpc::ByteBuffer> acks_ ABSL_GUARDED_BY(mu_);
  std::deque<size_t> ack_sizes_ ABSL_GUARDED_BY(mu_);
  size_t unsent_ack_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // sum of ack_sizes_, also in ack_memory_
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_STEP_STREAM_REACTOR_H_
