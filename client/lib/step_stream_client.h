// StepStreamClient: sends StepEvents to a collector over one Collector.StreamSteps stream.
//
// Events are grouped into StepBatches of up to `batch_size`, each with an increasing sequence.
// At most `max_in_flight` batches are written and awaiting their BatchAck at any time: Add()
// blocks while the window is full, which is the client's half of the collector's flow control
// (the collector acks only after a durable commit, so a full window means it is busy writing).
// Acks are matched by sequence and may arrive in any order.
//
// Nothing unacked is ever counted as stored: Finish() reports the events of every batch that was
// not acked (written or not) in StreamResult::unacked_events, for the caller to re-send.
//
// Usage:
//   StepStreamClient client(channel);
//   for (auto& event : events) if (!client.Add(std::move(event))) break;  // stream ended
//   StreamResult result = client.Finish();
//
// Thread safety: the public methods are NOT thread-safe: one caller thread uses the object
// (Add, then Finish once). Internally one reader thread receives acks; together they are the
// one reader + one writer that a grpc::ClientReaderWriter supports. For parallel streams use one
// client per thread (see SendAll in send_all.h).
// Lifetime: the destructor cancels the stream if Finish() was not called, and joins the reader.
#ifndef STEPLEDGER_CLIENT_LIB_STEP_STREAM_CLIENT_H_
#define STEPLEDGER_CLIENT_LIB_STEP_STREAM_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/lib/ack_tracker.h"
#include "client/lib/step_batcher.h"
#include "client/lib/stream_result.h"
#include "grpcpp/grpcpp.h"
#include "stepledger/v1/collector.grpc.pb.h"

namespace stepledger::client {

struct StreamOptions {
  // Events per StepBatch. The collector accepts at most 1,000.
  int batch_size = 500;
  // Batches written and not yet acked; Add() blocks beyond this.
  int max_in_flight = 8;
  // Sequences used: first_sequence, first_sequence + sequence_stride, ... (see StepBatcher).
  uint64_t first_sequence = 1;
  uint64_t sequence_stride = 1;
  // Deadline for the whole stream. Infinite by default because a stream's length depends on
  // the input; set one when a hung collector must not hang the caller.
  absl::Duration deadline = absl::InfiniteDuration();
};

// Checks user-supplied options (batch size 1..1000, window >= 1, ...) before use.
absl::Status ValidateStreamOptions(const StreamOptions& options);

// A channel to `target` ("host:port") with the credentials of the environment
// (credentials.h: TLS with STEPLEDGER_CA_CERT, the key in STEPLEDGER_API_KEY).
std::shared_ptr<grpc::Channel> MakeCollectorChannel(const std::string& target);

class StepStreamClient {
 public:
  // Opens the stream on `channel` at once.
  // REQUIRES: ValidateStreamOptions(options).ok().
  explicit StepStreamClient(std::shared_ptr<grpc::ChannelInterface> channel,
                            StreamOptions options = {});
  ~StepStreamClient();

  StepStreamClient(const StepStreamClient&) = delete;
  StepStreamClient& operator=(const StepStreamClient&) = delete;

  // Queues one event; writes a batch when one fills, blocking while the in-flight window is
  // full. Returns false once the stream has ended (failed); events added after that are kept
  // and reported as unacked, so stopping early loses nothing.
  // REQUIRES: Finish() not called yet.
  bool Add(stepledger::v1::StepEvent event);

  // Writes the last partial batch, half-closes the stream, waits for every outstanding ack and
  // the stream's status, and returns what happened.
  // REQUIRES: called at most once.
  StreamResult Finish();

 private:
  // Writes `batch`, or records it as never sent when the stream has already ended.
  void Send(stepledger::v1::StepBatch batch);
  // Reader thread: matches acks until the stream ends.
  void ReadAcks();
  bool CanSend() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const StreamOptions options_;
  std::unique_ptr<stepledger::v1::Collector::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<stepledger::v1::StepBatch, stepledger::v1::BatchAck>>
      stream_;

  // Touched by the caller's thread only.
  StepBatcher batcher_;
  bool write_failed_ = false;
  bool finished_ = false;

  mutable absl::Mutex mu_;
  AckTracker tracker_ ABSL_GUARDED_BY(mu_);
  // Set by the reader when Read() returns false: no more acks will come.
  bool read_done_ ABSL_GUARDED_BY(mu_) = false;
  // First protocol violation seen by the reader (it then cancels the stream).
  absl::Status protocol_error_ ABSL_GUARDED_BY(mu_);

  // Started last, in the constructor body, so it sees every member initialised.
  std::thread reader_;
};

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_STEP_STREAM_CLIENT_H_
