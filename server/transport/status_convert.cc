#include "server/transport/status_convert.h"

#include <string>

#include "server/common/error_ref.h"
#include "server/common/log.h"

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
  return grpc::Status(static_cast<grpc::StatusCode>(sent.code()), std::string(sent.message()));
}

absl::Status ToAbslStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace stepledger::transport
