// GetRun from the client side: one unary call that returns a run's tree (see collector.proto).
//
// The status keeps the RPC's code (NOT_FOUND for an unknown run, INVALID_ARGUMENT for a bad
// run id, UNAVAILABLE, DEADLINE_EXCEEDED, ...), so callers can tell "no such run" from "could
// not ask".
//
// Thread safety: GetRun may be called concurrently on one stub (gRPC stubs are thread-safe).
#ifndef STEPLEDGER_CLIENT_LIB_RUN_CLIENT_H_
#define STEPLEDGER_CLIENT_LIB_RUN_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "stepledger/v1/collector.grpc.pb.h"

namespace stepledger::client {

// A run of a few thousand steps is a few MB on the wire; gRPC's default 4 MB receive limit
// would refuse the larger ones, so channels made for GetRun accept this much.
inline constexpr int kMaxRunMessageBytes = 64 * 1024 * 1024;

// An insecure channel to `target` ("host:port") that accepts GetRun answers up to
// kMaxRunMessageBytes.
std::shared_ptr<grpc::Channel> MakeRunChannel(const std::string& target);

// Calls Collector.GetRun on `stub` with a deadline of `timeout` from now.
absl::StatusOr<stepledger::v1::Run> GetRun(stepledger::v1::Collector::StubInterface& stub,
                                           const std::string& run_id,
                                           absl::Duration timeout = absl::Seconds(30));

// The same over a fresh channel to `target`.
absl::StatusOr<stepledger::v1::Run> GetRun(const std::string& target, const std::string& run_id,
                                           absl::Duration timeout = absl::Seconds(30));

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_RUN_CLIENT_H_
