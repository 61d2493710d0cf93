#include "server/transport/otlp_trace_service.h"

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/otlp/span_mapping.h"
#include "server/transport/otlp_convert.h"
#include "server/transport/status_convert.h"
#include "stepledger/internal/rpc_status_wire.pb.h"

namespace stepledger::transport {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

// One Export call: its chunks complete on writer threads, the last one finishes the RPC.
class ExportCall {
 public:
  ExportCall(grpc::ServerUnaryReactor* reactor, collector::ExportTraceServiceResponse* response,
             absl::Duration retry_delay)
      : reactor_(reactor), response_(response), retry_delay_(retry_delay) {}

  void AddPending() {
    absl::MutexLock lock(&mu_);
    ++pending_;
  }

  // A chunk committed (or failed), or the submitting reaction is done (`result` unset).
  void Complete(std::optional<absl::StatusOr<domain::ingest::BatchResult>> result) {
    bool last = false;
    {
      absl::MutexLock lock(&mu_);
      if (result.has_value()) {
        if (!result->ok()) {
          if (failure_.ok()) failure_ = result->status();
        } else {
          accepted_ += (*result)->accepted + (*result)->duplicates;
          for (auto& r : (*result)->rejected) rejected_.push_back(std::move(r));
        }
      }
      last = --pending_ == 0;
    }
    if (last) Finish();
  }

  void Fail(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (failure_.ok()) failure_ = status;
  }

 private:
  // Runs once, after every chunk completed: nothing else touches the state any more.
  void Finish() {
    absl::Status failure;
    std::vector<domain::ingest::Rejection> rejected;
    {
      absl::MutexLock lock(&mu_);
      failure = failure_;
      rejected = std::move(rejected_);
    }
    grpc::ServerUnaryReactor* reactor = reactor_;
    if (!failure.ok()) {
      grpc::Status status;
      if (absl::IsResourceExhausted(failure)) {
        status = RetryableStatus(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 std::string(failure.message()), retry_delay_);
      } else if (absl::IsUnavailable(failure)) {
        status = RetryableStatus(grpc::StatusCode::UNAVAILABLE, std::string(failure.message()),
                                 retry_delay_);
      } else {
        status = ToGrpcStatus(failure);
      }
      reactor->Finish(status);
    } else {
      if (!rejected.empty()) {
        collector::ExportTracePartialSuccess* partial = response_->mutable_partial_success();
        partial->set_rejected_spans(static_cast<int64_t>(rejected.size()));
        partial->set_error_message(RejectionSummary(rejected));
      }
      reactor->Finish(grpc::Status::OK);
    }
  }

  grpc::ServerUnaryReactor* const reactor_;
  collector::ExportTraceServiceResponse* const response_;
  const absl::Duration retry_delay_;
  absl::Mutex mu_;
  int pending_ ABSL_GUARDED_BY(mu_) = 1;  // the submitting reaction holds one
  int64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<domain::ingest::Rejection> rejected_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

absl::string_view SpanIdOf(absl::string_view event_id) {
  const size_t dash = event_id.rfind('-');
  return dash == absl::string_view::npos ? event_id : event_id.substr(dash + 1);
}

}  // namespace

grpc::Status RetryableStatus(grpc::StatusCode code, const std::string& message,
                             absl::Duration delay) {
  internal::RetryInfoWire retry;
  const int64_t nanos = absl::ToInt64Nanoseconds(delay);
  retry.mutable_retry_delay()->set_seconds(nanos / 1'000'000'000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  internal::RpcStatusWire status;
  status.set_code(static_cast<int32_t>(code));
  status.set_message(message);
  google::protobuf::Any* detail = status.add_details();
  detail->set_type_url("type.googleapis.com/google.rpc.RetryInfo");
  detail->set_value(retry.SerializeAsString());
  return grpc::Status(code, message, status.SerializeAsString());
}

std::string RejectionSummary(const std::vector<domain::ingest::Rejection>& rejected,
                             size_t max_named) {
  std::string out = absl::StrCat(rejected.size(), " span(s) rejected and quarantined");
  for (size_t i = 0; i < rejected.size() && i < max_named; ++i) {
    const auto& r = rejected[i];
    absl::StrAppend(&out, i == 0 ? ": " : "; ", "span ", SpanIdOf(r.event_id), " ", r.field, ": ",
                    r.reason);
  }
  if (rejected.size() > max_named) {
    absl::StrAppend(&out, "; and ", rejected.size() - max_named, " more");
  }
  return out;
}

OtlpTraceService::OtlpTraceService(domain::ingest::IngestService& ingest, Options options)
    : ingest_(ingest), options_(options) {}

grpc::ServerUnaryReactor* OtlpTraceService::Export(
    grpc::CallbackServerContext* context, const collector::ExportTraceServiceRequest* request,
    collector::ExportTraceServiceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const OtlpRequestView view = FromProto(*request);
  domain::otlp::Mapping mapping = domain::otlp::MapSpans(view.resources);
  if (mapping.steps.empty()) {
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // Renderers live until every SubmitBatch below returned (as_json is only called inside it).
  std::vector<std::function<std::string()>> renderers;
  renderers.reserve(mapping.steps.size());
  std::vector<domain::ingest::ReceivedEvent> events;
  events.reserve(mapping.steps.size());
  for (domain::otlp::MappedSpan& mapped : mapping.steps) {
    const auto& resource = request->resource_spans(static_cast<int>(mapped.resource_index));
    const opentelemetry::proto::trace::v1::Span* span =
        view.wire[mapped.resource_index][mapped.span_index];
    const size_t max_bytes = options_.max_quarantine_event_bytes;
    renderers.emplace_back([span, max_bytes] { return OtlpSpanJson(*span, max_bytes); });
    events.push_back(
        domain::ingest::ReceivedEvent{.step = std::move(mapped.step),
                                      .digest = OtlpSpanDigest(resource.resource(), *span),
                                      .conversion_error = std::move(mapped.conversion_error),
                                      .as_json = renderers.back()});
  }
  auto call = std::make_shared<ExportCall>(reactor, response, options_.retry_delay);
  const size_t chunk = std::max<size_t>(1, ingest_.limits().max_events_per_batch);
  for (size_t begin = 0; begin < events.size(); begin += chunk) {
    const size_t end = std::min(events.size(), begin + chunk);
    std::vector<domain::ingest::ReceivedEvent> part(std::make_move_iterator(events.begin() + begin),
                                                    std::make_move_iterator(events.begin() + end));
    call->AddPending();
    absl::Status submitted = ingest_.SubmitBatch(
        std::move(part),
        [call](absl::StatusOr<domain::ingest::BatchResult> r) { call->Complete(std::move(r)); });
    if (!submitted.ok()) {
      // Chunks already submitted still complete; the client retries the whole request and
      // their steps come back as duplicates.
      call->Fail(submitted);
      call->Complete(std::nullopt);  // releases the pending count of this chunk
      break;
    }
  }
  call->Complete(std::nullopt);  // the reaction's own count
  return reactor;
}

}  // namespace stepledger::transport
