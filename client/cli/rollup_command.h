// `stepledger rollup`: rolls the ledger up into the daily rollup tables (backfill, or a re-run
// to take in late events), through the collector: Admin.StartRollUp, then Admin.GetOperation
// every second, with a line on stderr as each day is done.
//
//   stepledger rollup (--day D | --from D1 --to D2)
//
// Exit status: 0 rolled up; 75 another rollup (a collector's nightly job or another
// backfill) holds the lock: try again later; 3 collector unreachable or failed; 64 usage error.
#ifndef STEPLEDGER_CLIENT_CLI_ROLLUP_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_ROLLUP_COMMAND_H_

#include <string>
#include <vector>

#include "client/cli/cli_context.h"

namespace stepledger::client {

int RunRollupCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_ROLLUP_COMMAND_H_
