// `stepledger run`: looks at one agent run.
//
//   stepledger run show RUN_ID [--json] [--timeout SECONDS]
//
// Prints the run's tree (Collector.GetRun) as an indented table: step (indented by depth),
// kind, name, model, tokens, own cost, subtree cost, status, attribution, tool owner; then
// the totals and, when there are any, the orphans, invalid steps and issues. --json prints the
// Run message in protobuf's canonical JSON mapping instead (one line).
//
// Exit status: 0 shown; kExitNotFound (4) no such run; kExitTransport (3) the RPC failed;
// kExitUsage (64) bad command line or a run id the collector refuses.
//
// Thread safety: stateless; see CliContext.
#ifndef STEPLEDGER_CLIENT_CLI_RUN_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_RUN_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "client/cli/cli_context.h"
#include "stepledger/v1/collector.pb.h"

namespace stepledger::client {

int RunRunCommand(const CliContext& context, const std::vector<std::string>& args);

// "$1.234568": nano-USD as dollars, rounded half away from zero to 6 decimals.
std::string FormatDollars(int64_t nano_usd);

// Sum of the usage buckets that are known, or "?" when none is.
std::string FormatTokens(const stepledger::v1::Usage& usage);

// The human-readable rendering used by `run show` without --json.
void RenderRun(const stepledger::v1::Run& run, std::ostream& out);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_RUN_COMMAND_H_
