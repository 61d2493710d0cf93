// absl::Status <-> grpc::Status. Abseil's codes are gRPC's codes one to one.
#ifndef STEPLEDGER_SERVER_TRANSPORT_STATUS_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_STATUS_CONVERT_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace stepledger::transport {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

inline absl::Status ToAbslStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_STATUS_CONVERT_H_
