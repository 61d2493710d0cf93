// `stepledger budget`: budget caps as data, checks, acknowledgements and the what-if replay.
//
//   stepledger budget set --id ID --scope S --key K --period P --limit-usd X --owner O ...
//   stepledger budget list [--json]
//   stepledger budget delete ID --by WHO
//   stepledger budget apply FILE --by WHO [--prune] [--dry-run]
//   stepledger budget pending [CAP_ID] [--json]
//   stepledger budget approve --id CAP_ID [--proposal N | --revision R] [--reason TEXT]
//   stepledger budget check --feature F --team T --tenant X --workload-class C --env E --run R
//                           --estimate-usd X [--reserve --step S] [--on-unavailable closed|open]
//   stepledger budget ack CAP_ID --by WHO --reason TEXT --extra-usd X --expires-in 24h
//   stepledger budget acks [CAP_ID] [--json]
//   stepledger budget whatif (--cap-file FILE | <set flags>) [--days 30]
//
// Everything talks to the collector: the Budget service (client/lib/budget_client.h), and
// Admin.WhatIfBudget for `whatif`, which the collector replays over its ledger. Money flags are
// dollars, parsed exactly into nano-USD (money.h). The cap file format is in
// docs/BUDGETS.md ("Cap files").
//
// Exit status: 0 ok (for `check`: ALLOW or ALERT); 2 `check` answered REQUIRE_ACK; 3 transport
// failure (for `check`: the service was unreachable, whatever --on-unavailable chose, unless it
// chose open); 4 no such cap; 64 usage error or values the service refused; 65 malformed cap
// file (or a cap in it the service refused); 66 file not readable.
//
// Thread safety: stateless; see CliContext.
#ifndef STEPLEDGER_CLIENT_CLI_BUDGET_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_BUDGET_COMMAND_H_

#include <string>
#include <vector>

#include "client/cli/cli_context.h"

namespace stepledger::client {

int RunBudgetCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_BUDGET_COMMAND_H_
