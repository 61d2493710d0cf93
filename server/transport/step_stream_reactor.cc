#include "server/transport/step_stream_reactor.h"

#include <grpcpp/impl/codegen/proto_utils.h>

#include <utility>
#include <vector>

#include "server/domain/ingest/scope_filter.h"
#include "server/transport/status_convert.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::transport {
namespace {

grpc::ByteBuffer Serialize(const v1::BatchAck& ack) {
  grpc::ByteBuffer buffer;
  bool own_buffer = false;
  // Cannot fail for a message this process built (it only fails above 2 GiB).
  (void)grpc::SerializationTraits<v1::BatchAck>::Serialize(ack, &buffer, &own_buffer);
  return buffer;
}

}  // namespace

StepStreamReactor::StepStreamReactor(domain::ingest::IngestService& ingest, AckMemory& ack_memory,
                                     Options options)
    : ingest_(ingest),
      ack_memory_(ack_memory),
      options_(options),
      reader_(options.max_quarantine_event_bytes) {
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = true;
  }
  StartRead(&read_buffer_);
}

absl::Status StepStreamReactor::SubmitBatch() {
  absl::StatusOr<StepBatchReader::Batch> batch = reader_.Read(read_buffer_);
  if (!batch.ok()) return batch.status();
  const uint64_t sequence = batch->sequence;
  if (options_.rate_limiter != nullptr) {
    if (absl::Status s = options_.rate_limiter->Take(options_.caller->Identity(),
                                                     static_cast<int64_t>(batch->events.size()),
                                                     options_.caller->ingest_rate);
        !s.ok()) {
      return s;
    }
  }
  domain::ingest::RejectOutOfScope(options_.caller->scopes, batch->events);
  // The events' as_json refers to reader_, which stays intact until the next read; SubmitBatch
  // only calls it synchronously.
  return ingest_.SubmitBatch(std::move(batch->events),
                             [this, sequence](absl::StatusOr<domain::ingest::BatchResult> r) {
                               OnCommitted(sequence, std::move(r));
                             });
}

void StepStreamReactor::OnReadDone(bool ok) {
  Actions actions;
  if (!ok) {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    reads_done_ = true;
    PlanLocked(actions);
  } else {
    OnBatchRead(actions);
  }
  Execute(actions);
}

void StepStreamReactor::OnBatchRead(Actions& actions) {
  bool dropped = false;
  {
    absl::MutexLock lock(&mu_);
    // read_pending_ stays true while the batch is being converted below, so that no other
    // thread (a commit completion, a write completion) starts the next read into read_buffer_.
    if (!failure_.ok() || cancelled_) {
      read_pending_ = false;
      // The stream is ending with an error: this batch is not acked, so the client knows to
      // re-send it.
      dropped = true;
      PlanLocked(actions);
    } else {
      ++inflight_;
    }
  }
  if (dropped) {
    read_buffer_.Clear();
    return;
  }
  absl::Status submitted = SubmitBatch();
  bool next_read_waits;
  {
    absl::MutexLock lock(&mu_);
    next_read_waits = !ReadAllowedLocked();
  }
  // A stream that cannot read on at once may wait a long time (a client that never takes its
  // acks): it lets go of the parsed batch first, so that what it holds is what AckMemory counts.
  // read_pending_ is still true here, so no other thread starts a read into the reader.
  if (next_read_waits) reader_.Release();
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;  // read_buffer_ is free again
    if (!submitted.ok()) {
      --inflight_;
      FailLocked(submitted);
    }
    PlanLocked(actions);
  }
}

void StepStreamReactor::OnCommitted(uint64_t sequence,
                                    absl::StatusOr<domain::ingest::BatchResult> result) {
  grpc::ByteBuffer ack_bytes;
  if (result.ok()) {
    v1::BatchAck ack;
    ack.set_sequence(sequence);
    ack.set_accepted(result->accepted);
    ack.set_duplicates(result->duplicates);
    for (const auto& r : result->rejected) {
      v1::Rejection* out = ack.add_rejected();
      out->set_event_id(r.event_id);
      out->set_field(r.field);
      out->set_reason(r.reason);
    }
    ack_bytes = Serialize(ack);
  }
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    --inflight_;
    if (!result.ok()) {
      FailLocked(result.status());
    } else {
      const size_t size = ack_bytes.Length();
      acks_.push_back(std::move(ack_bytes));
      ack_sizes_.push_back(size);
      unsent_ack_bytes_ += size;
      ack_memory_.Add(static_cast<int64_t>(size));
    }
    PlanLocked(actions);
  }
  Execute(actions);
}

void StepStreamReactor::OnWriteDone(bool ok) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    acks_.pop_front();
    unsent_ack_bytes_ -= ack_sizes_.front();
    ack_memory_.Remove(static_cast<int64_t>(ack_sizes_.front()));
    ack_sizes_.pop_front();
    if (!ok) cancelled_ = true;  // the client is gone; nothing more can be delivered
    PlanLocked(actions);
  }
  Execute(actions);
}

void StepStreamReactor::OnCancel() {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    PlanLocked(actions);
  }
  Execute(actions);
}

void StepStreamReactor::OnDone() {
  {
    absl::MutexLock lock(&mu_);
    // Acks never delivered (the client went away) leave the collector's count with the stream.
    ack_memory_.Remove(static_cast<int64_t>(unsent_ack_bytes_));
    unsent_ack_bytes_ = 0;
  }
  delete this;
}

void StepStreamReactor::FailLocked(const absl::Status& status) {
  if (failure_.ok()) failure_ = status;
}

bool StepStreamReactor::ReadAllowedLocked() const {
  const bool ending = reads_done_ || cancelled_ || !failure_.ok();
  // Undelivered acks count against the stream's in-flight limit: a client that does not read
  // is not read either (see the class comment and ack_memory.h).
  const bool room = inflight_ + static_cast<int>(acks_.size()) < options_.max_inflight_batches;
  const bool memory = unsent_ack_bytes_ == 0 || !ack_memory_.OverLimit();
  return !ending && room && memory;
}

void StepStreamReactor::PlanLocked(Actions& actions) {
  if (finished_) return;
  const bool ending = reads_done_ || cancelled_ || !failure_.ok();
  if (!read_pending_ && ReadAllowedLocked()) {
    read_pending_ = true;
    actions.start_read = true;
  }
  if (!writing_ && !acks_.empty() && !cancelled_) {
    writing_ = true;
    actions.start_write = &acks_.front();  // deque: stays valid while other acks are pushed
  }
  if (ending && inflight_ == 0 && !writing_ && (acks_.empty() || cancelled_)) {
    finished_ = true;
    actions.finish = true;
    if (!failure_.ok()) {
      actions.finish_status = ToGrpcStatus(failure_);
    } else if (cancelled_) {
      actions.finish_status = grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled");
    } else {
      actions.finish_status = grpc::Status::OK;
    }
  }
}

void StepStreamReactor::Execute(const Actions& actions) {
  if (actions.start_read) StartRead(&read_buffer_);
  if (actions.start_write != nullptr) StartWrite(actions.start_write);
  if (actions.finish) Finish(actions.finish_status);
}

}  // namespace stepledger::transport
