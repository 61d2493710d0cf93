// stepledger: the command-line client of the stepledger collector. This file holds only the
// command table and the process plumbing; each command lives in its own file.
//
// To add a command: write foo_command.{h,cc} in this folder with
// `int RunFooCommand(const CliContext&, const std::vector<std::string>&)`, include its header
// below and add one row to kCommands. CMake picks up the new .cc by itself.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "buildinfo/build_info.h"
#include "client/cli/budget_command.h"
#include "client/cli/cli_context.h"
#include "client/cli/dispatcher.h"
#include "client/cli/invoice_command.h"
#include "client/cli/keys_command.h"
#include "client/cli/prices_command.h"
#include "client/cli/report_command.h"
#include "client/cli/rollup_command.h"
#include "client/cli/run_command.h"
#include "client/cli/send_command.h"

namespace {

constexpr stepledger::client::Command kCommands[] = {
    {"send", "stream a JSON Lines file of StepEvents to the collector",
     &stepledger::client::RunSendCommand},
    {"prices", "prices and past costs: prices show|quote MODEL, prices unpriced|reprice|load",
     &stepledger::client::RunPricesCommand},
    {"run", "show one run's step tree and what it cost: run show RUN_ID [--json]",
     &stepledger::client::RunRunCommand},
    {"rollup", "roll the ledger up per day: rollup --day D | --from D1 --to D2",
     &stepledger::client::RunRollupCommand},
    {"report", "showback/variance report: report showback [--month M] [--format F]",
     &stepledger::client::RunReportCommand},
    {"invoice", "record a provider invoice: invoice import --provider P --period M --amount USD",
     &stepledger::client::RunInvoiceCommand},
    {"keys", "API keys: keys create|list|rotate|revoke (see keys --help)",
     &stepledger::client::RunKeysCommand},
    {"budget",
     "budget caps: budget set|list|delete|apply FILE|pending|approve|check|ack|acks|whatif "
     "(see budget --help)",
     &stepledger::client::RunBudgetCommand},
};

}  // namespace

int main(int argc, char** argv) {
  const char* env_target = std::getenv("STEPLEDGER_TARGET");
  const std::string default_target = env_target != nullptr && env_target[0] != '\0'
                                         ? env_target
                                         : stepledger::client::kDefaultTarget;
  const std::vector<std::string> args(argv + 1, argv + argc);
  return stepledger::client::Dispatch(kCommands, args, default_target,
                                      stepledger::build_info::VersionText(), std::cin, std::cout,
                                      std::cerr);
}
