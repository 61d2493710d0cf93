// The `stepledger` command line: global flags, then one command from a table.
//
//   stepledger [--target HOST:PORT] COMMAND [ARGS...]
//   stepledger help | --help | -h
//   stepledger --version
//
// The target comes from --target, else from the `default_target` the caller passes (main.cc
// reads STEPLEDGER_TARGET, falling back to 127.0.0.1:50051). Adding a command is one file with
// its function and one row in main.cc's table; the dispatcher needs no change.
//
// Thread safety: stateless; Dispatch may run concurrently with different streams.
#ifndef STEPLEDGER_CLIENT_CLI_DISPATCHER_H_
#define STEPLEDGER_CLIENT_CLI_DISPATCHER_H_

#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "client/cli/cli_context.h"

namespace stepledger::client {

// The target used when neither --target nor STEPLEDGER_TARGET says otherwise.
inline constexpr char kDefaultTarget[] = "127.0.0.1:50051";

// Prints the global usage and every command with its one-line help.
void PrintUsage(absl::Span<const Command> commands, std::ostream& out);

// Runs the command named in `args` (the command line without the program name) and returns
// its exit status; kExitUsage for an unknown command or a bad global flag.
// `version` is what --version prints.
int Dispatch(absl::Span<const Command> commands, const std::vector<std::string>& args,
             const std::string& default_target, std::string_view version, std::istream& in,
             std::ostream& out, std::ostream& err);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_DISPATCHER_H_
