#include "client/cli/rollup_command.h"

#include "absl/strings/str_format.h"
#include "client/cli/flags.h"
#include "client/cli/money.h"
#include "client/cli/operation_progress.h"
#include "client/lib/admin_client.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client {

int RunRollupCommand(const CliContext& context, const std::vector<std::string>& args) {
  CLI::App app(
      "Rolls the ledger up per UTC day, through the collector (Admin.StartRollUp, polled\n"
      "with Admin.GetOperation; progress on stderr). Each day is replaced atomically, so\n"
      "re-running is safe and takes in late events; steps received after a day was first\n"
      "rolled up are kept as correction rows.\n"
      "Exit status: 0 done, 3 collector unreachable or failed, 64 usage error, 75 another\n"
      "rollup holds the lock (try again later).",
      "stepledger rollup");
  std::string day, from, to;
  CLI::Option* day_flag = app.add_option("--day", day, "one UTC day, YYYY-MM-DD");
  CLI::Option* from_flag = app.add_option("--from", from, "first UTC day, YYYY-MM-DD");
  CLI::Option* to_flag = app.add_option("--to", to, "last UTC day, YYYY-MM-DD (inclusive)");
  day_flag->excludes(from_flag)->excludes(to_flag);
  from_flag->needs(to_flag);
  to_flag->needs(from_flag);
  if (std::optional<int> exit = ParseFlags(app, args, context)) return *exit;
  if (day.empty() && from.empty()) {
    context.err << "stepledger rollup: --day or --from and --to are required\n";
    return kExitUsage;
  }
  v1::RollUpRequest request;
  request.mutable_range()->set_from(day.empty() ? from : day);
  request.mutable_range()->set_to(day.empty() ? to : day);
  const AdminClient client(MakeCollectorChannel(context.target));
  absl::StatusOr<v1::Operation> done =
      WaitShowingProgress(context, client, "rollup", client.StartRollUp(request));
  if (!done.ok()) return RpcFailure(context, "stepledger rollup", done.status());
  for (const v1::RolledUpDay& d : done->roll_up().days()) {
    context.out << absl::StrFormat("%s  %s  steps %d  spend %s USD", d.day(),
                                   d.retired()      ? "retired "
                                   : d.first_roll() ? "rolled  "
                                                    : "re-rolled",
                                   d.source_rows(), FormatNanoUsd(d.total_cost_nano_usd()));
    if (d.correction_cost_nano_usd() != 0) {
      context.out << "  (corrections " << FormatNanoUsd(d.correction_cost_nano_usd()) << " USD)";
    }
    context.out << "\n";
  }
  return kExitOk;
}

}  // namespace stepledger::client
