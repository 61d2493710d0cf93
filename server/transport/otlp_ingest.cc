#include "server/transport/otlp_ingest.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/ingest/scope_filter.h"
#include "server/domain/otlp/span_mapping.h"
#include "server/transport/otlp_convert.h"

namespace stepledger::transport {
namespace {

// One Export: its chunks complete on writer threads; the last completion reports.
class ExportCall {
 public:
  explicit ExportCall(OtlpIngest::Done done) : done_(std::move(done)) {}

  void AddPending() {
    absl::MutexLock lock(&mu_);
    ++pending_;
  }

  void Fail(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    if (failure_.ok()) failure_ = status;
  }

  // A chunk committed (or failed), or a pending count is released (`result` unset).
  void Complete(std::optional<absl::StatusOr<domain::ingest::BatchResult>> result) {
    OtlpExportOutcome outcome;
    {
      absl::MutexLock lock(&mu_);
      if (result.has_value()) {
        if (!result->ok()) {
          if (failure_.ok()) failure_ = result->status();
        } else {
          for (auto& r : (*result)->rejected) rejected_.push_back(std::move(r));
        }
      }
      if (--pending_ > 0) return;
      // Last completion: nothing else touches the state any more.
      outcome.status = failure_;
      if (failure_.ok() && !rejected_.empty()) {
        outcome.rejected_spans = static_cast<int64_t>(rejected_.size());
        outcome.error_message = RejectionSummary(rejected_);
      }
    }
    std::move(done_)(std::move(outcome));
  }

 private:
  OtlpIngest::Done done_;
  absl::Mutex mu_;
  int pending_ ABSL_GUARDED_BY(mu_) = 1;  // the submitting call holds one
  std::vector<domain::ingest::Rejection> rejected_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

absl::string_view SpanIdOf(absl::string_view event_id) {
  const size_t dash = event_id.rfind('-');
  return dash == absl::string_view::npos ? event_id : event_id.substr(dash + 1);
}

}  // namespace

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

OtlpIngest::OtlpIngest(domain::ingest::IngestService& ingest, size_t max_quarantine_event_bytes,
                       domain::ingest::IngestRateLimiter* rate_limiter)
    : ingest_(ingest),
      max_quarantine_event_bytes_(max_quarantine_event_bytes),
      rate_limiter_(rate_limiter) {}

void OtlpIngest::Export(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
    const domain::auth::Principal& caller, Done done) {
  const OtlpRequestView view = FromProto(request);
  domain::otlp::Mapping mapping = domain::otlp::MapSpans(view.resources);
  if (mapping.steps.empty()) {
    std::move(done)(OtlpExportOutcome{});
    return;
  }
  if (rate_limiter_ != nullptr) {
    if (absl::Status s = rate_limiter_->Take(
            caller.Identity(), static_cast<int64_t>(mapping.steps.size()), caller.ingest_rate);
        !s.ok()) {
      std::move(done)(
          OtlpExportOutcome{.status = std::move(s), .rejected_spans = 0, .error_message = {}});
      return;
    }
  }
  // Renderers live until every SubmitBatch below returned (as_json is only called inside it).
  std::vector<std::function<std::string()>> renderers;
  renderers.reserve(mapping.steps.size());
  std::vector<domain::ingest::ReceivedEvent> events;
  events.reserve(mapping.steps.size());
  for (domain::otlp::MappedSpan& mapped : mapping.steps) {
    const auto& resource = request.resource_spans(static_cast<int>(mapped.resource_index));
    const opentelemetry::proto::trace::v1::Span* span =
        view.wire[mapped.resource_index][mapped.span_index];
    const size_t max_bytes = max_quarantine_event_bytes_;
    renderers.emplace_back([span, max_bytes] { return OtlpSpanJson(*span, max_bytes); });
    events.emplace_back(OtlpSpanDigest(resource.resource(), *span),
                        std::move(mapped.conversion_error), renderers.back(),
                        std::move(mapped.step));
  }
  domain::ingest::RejectOutOfScope(caller.scopes, events);
  auto call = std::make_shared<ExportCall>(std::move(done));
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
      // `done` of this chunk will not be called: release its count here. Chunks already
      // submitted still complete before the outcome is reported.
      call->Fail(submitted);
      call->Complete(std::nullopt);
      break;
    }
  }
  call->Complete(std::nullopt);  // the submitting call's own count
}

}  // namespace stepledger::transport
