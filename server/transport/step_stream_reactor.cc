#include "server/transport/step_stream_reactor.h"

#include <utility>
#include <vector>

#include "server/transport/status_convert.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {

StepStreamReactor::StepStreamReactor(domain::ingest::IngestService& ingest,
                                     int max_inflight_batches)
    : ingest_(ingest), max_inflight_batches_(max_inflight_batches) {
  {
    absl::MutexLock lock(&mu_);
    read_pending_ = true;
  }
  StartRead(&batch_);
}

void StepStreamReactor::OnReadDone(bool ok) {
  Actions actions;
  if (!ok) {
    absl::MutexLock lock(&mu_);
    read_pending_ = false;
    reads_done_ = true;
    PlanLocked(actions);
  } else {
    bool dropped = false;
    {
      absl::MutexLock lock(&mu_);
      // read_pending_ stays true while batch_ is being converted below, so that no other
      // thread (a commit completion, a write completion) starts the next read into batch_.
      if (!failure_.ok() || cancelled_) {
        read_pending_ = false;
        // The stream is ending with an error: this batch is not acked, so the client knows
        // to re-send it.
        dropped = true;
        PlanLocked(actions);
      } else {
        ++inflight_;
      }
    }
    if (dropped) {
      Execute(actions);
      return;
    }
    const uint64_t sequence = batch_.sequence();
    std::vector<domain::ingest::ReceivedEvent> events;
    events.reserve(batch_.events_size());
    // as_json is only called during SubmitBatch, while batch_ is still intact.
    std::vector<std::function<std::string()>> renderers;
    renderers.reserve(batch_.events_size());
    for (const v1::StepEvent& e : batch_.events()) {
      renderers.emplace_back([&e] { return EventJson(e); });
    }
    for (int i = 0; i < batch_.events_size(); ++i) {
      const v1::StepEvent& e = batch_.events(i);
      events.push_back(
          domain::ingest::ReceivedEvent{FromProto(e), EventDigest(e), renderers[i]});
    }
    absl::Status submitted = ingest_.SubmitBatch(
        std::move(events), [this, sequence](absl::StatusOr<domain::ingest::BatchResult> r) {
          OnCommitted(sequence, std::move(r));
        });
    absl::MutexLock lock(&mu_);
    read_pending_ = false;  // batch_ is free again
    if (!submitted.ok()) {
      --inflight_;
      FailLocked(submitted);
    }
    PlanLocked(actions);
  }
  Execute(actions);
}

void StepStreamReactor::OnCommitted(uint64_t sequence,
                                    absl::StatusOr<domain::ingest::BatchResult> result) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    --inflight_;
    if (!result.ok()) {
      FailLocked(result.status());
    } else {
      v1::BatchAck& ack = acks_.emplace_back();
      ack.set_sequence(sequence);
      ack.set_accepted(result->accepted);
      ack.set_duplicates(result->duplicates);
      for (const auto& r : result->rejected) {
        v1::Rejection* out = ack.add_rejected();
        out->set_event_id(r.event_id);
        out->set_field(r.field);
        out->set_reason(r.reason);
      }
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

void StepStreamReactor::OnDone() { delete this; }

void StepStreamReactor::FailLocked(const absl::Status& status) {
  if (failure_.ok()) failure_ = status;
}

void StepStreamReactor::PlanLocked(Actions& actions) {
  if (finished_) return;
  const bool ending = reads_done_ || cancelled_ || !failure_.ok();
  if (!ending && !read_pending_ && inflight_ < max_inflight_batches_) {
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
  if (actions.start_read) StartRead(&batch_);
  if (actions.start_write != nullptr) StartWrite(actions.start_write);
  if (actions.finish) Finish(actions.finish_status);
}

}  // namespace stepledger::transport
