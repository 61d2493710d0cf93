#include "client/cli/rollup_command.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/admin_flags.h"
#include "server/domain/reports/render.h"
#include "server/storage/rollup_store.h"

namespace stepledger::client {
namespace {

constexpr char kUsage[] =
    "usage: stepledger rollup (--day YYYY-MM-DD | --from YYYY-MM-DD --to YYYY-MM-DD)\n"
    "                         [--database-url URL]\n"
    "\n"
    "Rolls the ledger up per UTC day (replacing each day atomically, so re-running is safe and\n"
    "takes in late events). Steps received after a day was first rolled up are kept as\n"
    "correction rows. Reads and writes PostgreSQL directly (--database-url or\n"
    "STEPLEDGER_DATABASE_URL).\n"
    "\n"
    "Exit status: 0 done, 3 database error, 64 usage error, 75 another rollup holds the lock.\n";

}  // namespace

int RunRollupCommand(const CliContext& context, const std::vector<std::string>& args) {
  auto flags = ParseAdminFlags(args, 0, {"day", "from", "to", "database-url"});
  if (!flags.ok()) {
    context.err << "rollup: " << flags.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  if (flags->count("help")) {
    context.out << kUsage;
    return kExitOk;
  }
  absl::StatusOr<absl::CivilDay> from, to;
  if (flags->count("day")) {
    if (flags->count("from") || flags->count("to")) {
      context.err << "rollup: give --day or --from/--to, not both\n";
      return kExitUsage;
    }
    from = to = ParseDay(flags->at("day"));
  } else if (flags->count("from") && flags->count("to")) {
    from = ParseDay(flags->at("from"));
    to = ParseDay(flags->at("to"));
  } else {
    context.err << "rollup: --day or --from and --to are required\n" << kUsage;
    return kExitUsage;
  }
  for (const auto* d : {&from, &to}) {
    if (!d->ok()) {
      context.err << "rollup: " << d->status().message() << "\n";
      return kExitUsage;
    }
  }
  if (*to < *from) {
    context.err << "rollup: --to is before --from\n";
    return kExitUsage;
  }
  absl::StatusOr<std::string> url = DatabaseUrlFrom(*flags);
  if (!url.ok()) {
    context.err << "rollup: " << url.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<storage::RollupRunResult> run =
      storage::RollupJob({.database_url = *url}).Run(*from, *to);
  if (!run.ok()) {
    context.err << "rollup: " << run.status() << "\n";
    return kExitTransport;
  }
  if (!run->ran) {
    context.err << "rollup: another process holds the rollup lock (a collector's nightly job "
                   "or another backfill); try again later\n";
    return kExitTempFail;
  }
  for (const auto& d : run->days) {
    context.out << absl::StrFormat("%04d-%02d-%02d  %s  steps %d  spend %s USD", d.day.year(),
                                   d.day.month(), d.day.day(),
                                   d.first_roll ? "rolled  " : "re-rolled", d.source_rows,
                                   domain::reports::FormatUsd(d.total_cost_nano_usd, 6));
    if (d.correction_cost_nano_usd != 0) {
      context.out << "  (corrections " << domain::reports::FormatUsd(d.correction_cost_nano_usd, 6)
                  << " USD)";
    }
    context.out << "\n";
  }
  return kExitOk;
}

}  // namespace stepledger::client
