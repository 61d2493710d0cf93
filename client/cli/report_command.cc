#include "client/cli/report_command.h"

#include <fstream>

#include "absl/time/clock.h"
#include "client/cli/admin_flags.h"
#include "server/domain/reports/render.h"
#include "server/domain/reports/showback.h"
#include "server/storage/showback_source.h"

namespace stepledger::client {
namespace {

constexpr int kExitCantCreate = 73;

constexpr char kUsage[] =
    "usage: stepledger report showback [--month YYYY-MM | --from YYYY-MM-DD --to YYYY-MM-DD]\n"
    "                                  [--environment ENV] [--format FORMAT] [--out FILE]\n"
    "                                  [--database-url URL]\n"
    "\n"
    "Spend per team and feature against budget and prorated budget (flagging over-budget\n"
    "rows), cost per run p50/p95, retry spend and top models; spend per tenant with tenants\n"
    "above 10x the median flagged; tool owners' work for other teams; unattributed spend by\n"
    "reason, unpriced steps, tag drift, pending inheritance; attributed vs invoiced.\n"
    "Reads the daily rollups (run `stepledger rollup` or let the collector's nightly job).\n"
    "\n"
    "  --month YYYY-MM      a calendar month (default: the current UTC month to date)\n"
    "  --from/--to          any range of UTC days, inclusive\n"
    "  --environment ENV    only this environment (default: all)\n"
    "  --format FORMAT      table (default), csv, json, focus (FOCUS CSV), html\n"
    "  --out FILE           write there instead of standard output\n"
    "\n"
    "Exit status: 0 written, 3 database error, 64 usage error, 73 cannot write --out.\n";

}  // namespace

int RunReportCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? context.err : context.out) << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] != "showback") {
    context.err << "report: unknown report '" << args[0] << "' (showback)\n";
    return kExitUsage;
  }
  auto flags = ParseAdminFlags(
      args, 1, {"month", "from", "to", "environment", "format", "out", "database-url"});
  if (!flags.ok()) {
    context.err << "report: " << flags.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  if (flags->count("help")) {
    context.out << kUsage;
    return kExitOk;
  }
  auto usage_error = [&](const absl::Status& s) {
    context.err << "report: " << s.message() << "\n";
    return kExitUsage;
  };
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  absl::CivilDay from = absl::CivilDay(absl::CivilMonth(today));
  absl::CivilDay to = today;
  if (flags->count("month")) {
    if (flags->count("from") || flags->count("to")) {
      return usage_error(absl::InvalidArgumentError("give --month or --from/--to, not both"));
    }
    absl::StatusOr<absl::CivilMonth> m = ParseMonth(flags->at("month"));
    if (!m.ok()) return usage_error(m.status());
    from = absl::CivilDay(*m);
    to = absl::CivilDay(*m + 1) - 1;
  } else if (flags->count("from") || flags->count("to")) {
    if (!flags->count("from") || !flags->count("to")) {
      return usage_error(absl::InvalidArgumentError("--from and --to go together"));
    }
    absl::StatusOr<absl::CivilDay> f = ParseDay(flags->at("from")), t = ParseDay(flags->at("to"));
    if (!f.ok()) return usage_error(f.status());
    if (!t.ok()) return usage_error(t.status());
    if (*t < *f) return usage_error(absl::InvalidArgumentError("--to is before --from"));
    from = *f;
    to = *t;
  }
  domain::reports::ReportFormat format = domain::reports::ReportFormat::kTable;
  if (flags->count("format")) {
    absl::StatusOr<domain::reports::ReportFormat> f =
        domain::reports::ParseReportFormat(flags->at("format"));
    if (!f.ok()) return usage_error(f.status());
    format = *f;
  }
  absl::StatusOr<std::string> url = DatabaseUrlFrom(*flags);
  if (!url.ok()) return usage_error(url.status());
  const std::string environment = flags->count("environment") ? flags->at("environment") : "";

  absl::StatusOr<domain::reports::ShowbackInputs> inputs =
      storage::LoadShowbackInputs(*url, from, to, environment);
  if (!inputs.ok()) {
    context.err << "report: " << inputs.status() << "\n";
    return kExitTransport;
  }
  const std::string text =
      domain::reports::Render(domain::reports::BuildShowback(*inputs, absl::Now()), format);
  if (flags->count("out")) {
    std::ofstream file(flags->at("out"), std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
      context.err << "report: cannot write " << flags->at("out") << "\n";
      return kExitCantCreate;
    }
    return kExitOk;
  }
  context.out << text;
  return kExitOk;
}

}  // namespace stepledger::client
