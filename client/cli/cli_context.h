// What every `stepledger` command receives, and the shape of a command in the dispatch table.
//
// A command is a plain function: it reads its own arguments (everything after its name), writes
// results to `out` and diagnostics to `err`, and returns the process exit status. It never
// touches std::cout, std::cerr, std::cin or the environment directly, so tests can run it with
// string streams.
#ifndef STEPLEDGER_CLIENT_CLI_CLI_CONTEXT_H_
#define STEPLEDGER_CLIENT_CLI_CLI_CONTEXT_H_

#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace stepledger::client {

// Exit statuses shared by all commands (64.. follow BSD sysexits.h).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 2;     // The collector rejected some events.
inline constexpr int kExitTransport = 3;    // The RPC failed or something was not acked.
inline constexpr int kExitNotFound = 4;     // No such run, cap or model.
inline constexpr int kExitUsage = 64;       // Bad command line.
inline constexpr int kExitDataError = 65;   // Input file is malformed.
inline constexpr int kExitNoInput = 66;     // Input file cannot be opened.
inline constexpr int kExitCantCreate = 73;  // Output file cannot be written.
inline constexpr int kExitTempFail = 75;    // Busy (another rollup holds the lock): retry.

struct CliContext {
  std::string target;  // Collector address, "host:port".
  std::istream& in;    // What "-" means for file arguments.
  std::ostream& out;
  std::ostream& err;
};

// Prints "<what>: <CODE>: <message>" for a failed RPC and returns the exit status for it:
// kExitUsage for a refused request (INVALID_ARGUMENT, FAILED_PRECONDITION, ALREADY_EXISTS,
// OUT_OF_RANGE), kExitNotFound, kExitTempFail for ABORTED (a concurrent operation: retry),
// kExitTransport otherwise (unreachable, deadline, server error).
int RpcFailure(const CliContext& context, std::string_view what, const absl::Status& status);

using CommandFn = int (*)(const CliContext& context, const std::vector<std::string>& args);

struct Command {
  std::string_view name;
  std::string_view help;  // One line, shown by `stepledger help`.
  CommandFn run;
};

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_CLI_CONTEXT_H_
