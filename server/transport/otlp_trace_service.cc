#include "server/transport/otlp_trace_service.h"

#include "absl/strings/str_cat.h"
#include "server/domain/auth/method_policy.h"
#include "server/transport/status_convert.h"
#include "stepledger/internal/rpc_status_wire.pb.h"

namespace stepledger::transport {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

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

OtlpTraceService::OtlpTraceService(domain::ingest::IngestService& ingest,
                                   const Authorizer& authorizer, Options options)
    : ingest_(ingest, options.max_quarantine_event_bytes),
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
  ingest_.Export(*request, (*caller)->scopes, [this, reactor, response](OtlpExportOutcome outcome) {
    reactor->Finish(ToGrpc(outcome, response));
  });
  return reactor;
}

grpc::Status OtlpTraceService::ToGrpc(const OtlpExportOutcome& outcome,
                                      collector::ExportTraceServiceResponse* response) const {
  const absl::Status& s = outcome.status;
  if (absl::IsResourceExhausted(s)) {
    return RetryableStatus(grpc::StatusCode::RESOURCE_EXHAUSTED, std::string(s.message()),
                           options_.retry_delay);
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
