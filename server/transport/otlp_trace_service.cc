#include "server/transport/otlp_trace_service.h"

#include "absl/strings/str_cat.h"
#include "server/domain/auth/method_policy.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "server/transport/status_convert.h"

namespace stepledger::transport {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

}  // namespace

OtlpTraceService::OtlpTraceService(domain::ingest::IngestService& ingest,
                                   const Authorizer& authorizer, Options options)
    : ingest_(ingest, options.max_quarantine_event_bytes, options.rate_limiter),
      authorizer_(authorizer),
      options_(options) {}

grpc::ServerUnaryReactor* OtlpTraceService::Export(
    grpc::CallbackServerContext* context, const collector::ExportTraceServiceRequest* request,
    collector::ExportTraceServiceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller =
      authorizer_.Authorize(*context, domain::auth::method::kOtlpExport);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // `response` stays valid until Finish(); `done` runs once, after every chunk committed.
  ingest_.Export(*request, **caller, [this, reactor, response](OtlpExportOutcome outcome) {
    reactor->Finish(ToGrpc(outcome, response));
  });
  return reactor;
}

grpc::Status OtlpTraceService::ToGrpc(const OtlpExportOutcome& outcome,
                                      collector::ExportTraceServiceResponse* response) const {
  const absl::Status& s = outcome.status;
  if (absl::IsResourceExhausted(s)) {
    // The rate limit knows its wait; a full queue gets the configured one.
    return RetryableStatus(grpc::StatusCode::RESOURCE_EXHAUSTED, std::string(s.message()),
                           domain::ingest::RetryDelayOf(s).value_or(options_.retry_delay));
  }
  if (absl::IsUnavailable(s)) {
    return RetryableStatus(grpc::StatusCode::UNAVAILABLE, std::string(s.message()),
                           options_.retry_delay);
  }
  if (!s.ok()) return ToGrpcStatus(s);
  if (outcome.rejected_spans > 0) {
    response->mutable_partial_success()->set_rejected_spans(outcome.rejected_spans);
    response->mutable_partial_success()->set_error_message(outcome.error_message);
  }
  return grpc::Status::OK;
}

}  // namespace stepledger::transport
