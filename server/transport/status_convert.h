// absl::Status <-> grpc::Status. Abseil's codes are gRPC's codes one to one.
//
// What a client is told. Messages of codes that describe the request or a documented condition
// (INVALID_ARGUMENT naming a field, NOT_FOUND, UNAVAILABLE, ABORTED, RESOURCE_EXHAUSTED, ...)
// pass through: they are written for the client, and storage errors among them are already
// stable phrases with a ref (storage/pg_status.h). INTERNAL, UNKNOWN and DATA_LOSS mean a fault
// the client cannot act on, and their message was written for an operator (it may hold SQL,
// values or addresses): unless it already carries a ref (server/common/error_ref.h), it is
// logged once under a new ref and the client gets kInternalError with that ref. docs/API.md,
// "Errors", lists what clients can see.
//
// Thread safety: both functions may be called from any thread.
#ifndef STEPLEDGER_SERVER_TRANSPORT_STATUS_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_STATUS_CONVERT_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace stepledger::transport {

inline constexpr absl::string_view kInternalError = "internal error; see collector log";

// A status carrying a retry delay (domain/ingest/ingest_rate_limiter.h, WithRetryDelay) gets
// it as google.rpc.RetryInfo in its details, as RetryableStatus.
grpc::Status ToGrpcStatus(const absl::Status& s);

// A gRPC status carrying google.rpc.RetryInfo (retry after `delay`) in its details.
grpc::Status RetryableStatus(grpc::StatusCode code, const std::string& message,
                             absl::Duration delay);

absl::Status ToAbslStatus(const grpc::Status& s);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_STATUS_CONVERT_H_
