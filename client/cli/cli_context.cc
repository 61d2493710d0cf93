#include "client/cli/cli_context.h"

namespace stepledger::client {

int RpcFailure(const CliContext& context, std::string_view what, const absl::Status& status) {
  context.err << what << ": " << absl::StatusCodeToString(status.code()) << ": " << status.message()
              << "\n";
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kOutOfRange:
      return kExitUsage;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kAborted:
      return kExitTempFail;
    default:
      return kExitTransport;
  }
}

}  // namespace stepledger::client
