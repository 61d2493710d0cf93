#include "server/transport/status_convert.h"

#include <string>

#include "server/common/error_ref.h"
#include "server/common/log.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "stepledger/internal/rpc_status_wire.pb.h"

namespace stepledger::transport {
namespace {

// Codes whose message is for an operator, never for a client.
bool OperatorOnly(absl::StatusCode code) {
  return code == absl::StatusCode::kInternal || code == absl::StatusCode::kUnknown ||
         code == absl::StatusCode::kDataLoss;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  absl::Status sent = s;
  if (OperatorOnly(s.code()) && !errors::RefOf(s).has_value()) {
    sent = errors::Referenced(
        s.code(), kInternalError, log::Level::kError, "internal error",
        {{"code", absl::StatusCodeToString(s.code())}, {"detail", std::string(s.message())}});
  }
  const auto code = static_cast<grpc::StatusCode>(sent.code());
  if (std::optional<absl::Duration> delay = domain::ingest::RetryDelayOf(sent); delay.has_value()) {
    return RetryableStatus(code, std::string(sent.message()), *delay);
  }
  return grpc::Status(code, std::string(sent.message()));
}

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

absl::Status ToAbslStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace stepledger::transport
