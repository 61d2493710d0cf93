// One StreamSteps call. See collector_service.h for the contract.
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

#include <deque>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/ingest/ingest_service.h"
#include "stepledger/v1/collector.grpc.pb.h"

namespace stepledger::transport {

class StepStreamReactor final : public grpc::ServerBidiReactor<v1::StepBatch, v1::BatchAck> {
 public:
  StepStreamReactor(domain::ingest::IngestService& ingest, int max_inflight_batches);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to do once mu_ is released.
  struct Actions {
    bool start_read = false;
    const v1::BatchAck* start_write = nullptr;
    bool finish = false;
    grpc::Status finish_status;
  };

  void OnCommitted(uint64_t sequence, absl::StatusOr<domain::ingest::BatchResult> result);
  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PlanLocked(Actions& actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Execute(const Actions& actions);

  domain::ingest::IngestService& ingest_;
  const int max_inflight_batches_;
  v1::StepBatch batch_;  // read buffer; only touched between StartRead and OnReadDone

  absl::Mutex mu_;
  int inflight_ ABSL_GUARDED_BY(mu_) = 0;           // batches submitted, not yet committed
  // A StartRead is outstanding, or its batch is still being converted: batch_ is busy.
  bool read_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;    // client half-closed
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failure_ ABSL_GUARDED_BY(mu_);       // first error; ends the stream
  std::deque<v1::BatchAck> acks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_STEP_STREAM_REACTOR_H_
