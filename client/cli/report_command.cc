#include "client/cli/report_command.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/cli/budget_file.h"
#include "client/cli/flags.h"
#include "client/lib/admin_client.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client {
namespace {

constexpr char kDescription[] =
    "Spend per team and feature against budget and prorated budget (flagging over-budget\n"
    "rows), cost per run p50/p95, retry spend and top models; spend per tenant with tenants\n"
    "above 10x the median flagged; tool owners' work for other teams; unattributed spend by\n"
    "reason, unpriced steps, tag drift, pending inheritance; attributed vs invoiced.\n"
    "Built by the collector (Reports.GetShowback) from the daily rollups. Days not rolled up\n"
    "yet are named in the report; --roll-up-missing rolls them up first.\n"
    "Exit status: 0 written, 3 collector unreachable or failed, 64 usage error, 73 cannot\n"
    "write --out.";

absl::StatusOr<v1::ReportFormat> ParseFormat(const std::string& text) {
  if (text == "table") return v1::REPORT_FORMAT_TABLE;
  if (text == "csv") return v1::REPORT_FORMAT_CSV;
  if (text == "json") return v1::REPORT_FORMAT_JSON;
  if (text == "focus") return v1::REPORT_FORMAT_FOCUS;
  if (text == "html") return v1::REPORT_FORMAT_HTML;
  if (text == "unpriced") return v1::REPORT_FORMAT_UNPRICED;
  return absl::InvalidArgumentError(
      "--format: expected table, csv, json, focus, html or unpriced, got '" + text + "'");
}

// Empty: every environment. Otherwise the budget file's reading of an environment name.
absl::StatusOr<v1::Environment> ParseEnvironment(const std::string& text) {
  if (text.empty()) return v1::ENVIRONMENT_UNSPECIFIED;
  absl::StatusOr<v1::Environment> env = ParseEnvironmentName(text);
  if (!env.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--environment: ", env.status().message()));
  }
  return env;
}

int RunShowback(const CliContext& context, const std::vector<std::string>& args) {
  CLI::App app(kDescription, "stepledger report showback");
  std::string month, from, to, environment, format = "table", out_path;
  bool roll_up_missing = false;
  CLI::Option* month_flag =
      app.add_option("--month", month, "a calendar month, YYYY-MM (default: this month to date)");
  CLI::Option* from_flag = app.add_option("--from", from, "first UTC day, YYYY-MM-DD");
  CLI::Option* to_flag = app.add_option("--to", to, "last UTC day, YYYY-MM-DD (inclusive)");
  month_flag->excludes(from_flag)->excludes(to_flag);
  from_flag->needs(to_flag);
  to_flag->needs(from_flag);
  app.add_option("--environment", environment, "only this environment (default: all)");
  app.add_option("--format", format,
                 "table (default), csv, json, focus (FOCUS 1.2 CSV), html, unpriced "
                 "(the entries without an amount, left out of focus)");
  app.add_option("--out", out_path, "write there instead of standard output");
  app.add_flag("--roll-up-missing", roll_up_missing,
               "roll up the period's days that have no rollup yet before reporting");
  if (std::optional<int> exit = ParseFlags(app, args, context)) return *exit;

  v1::ShowbackRequest request;
  if (!month.empty()) request.set_month(month);
  if (!from.empty()) {
    request.mutable_range()->set_from(from);
    request.mutable_range()->set_to(to);
  }
  absl::StatusOr<v1::ReportFormat> parsed_format = ParseFormat(format);
  absl::StatusOr<v1::Environment> parsed_environment = ParseEnvironment(environment);
  for (const absl::Status& s : {parsed_format.status(), parsed_environment.status()}) {
    if (!s.ok()) {
      context.err << "stepledger report showback: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  request.set_format(*parsed_format);
  request.set_environment(*parsed_environment);
  request.set_roll_up_missing(roll_up_missing);
  absl::StatusOr<v1::ShowbackReport> report =
      AdminClient(MakeCollectorChannel(context.target)).GetShowback(request);
  if (!report.ok()) return RpcFailure(context, "stepledger report showback", report.status());
  if (!report->missing_days().empty() && *parsed_format != v1::REPORT_FORMAT_TABLE) {
    // The table says so itself; other formats are data, so the note goes to stderr.
    context.err << "stepledger report showback: " << report->missing_days_size()
                << " day(s) not rolled up yet, not in the figures: " << report->missing_days(0)
                << " .. " << report->missing_days(report->missing_days_size() - 1)
                << " (stepledger rollup --from " << report->missing_days(0) << " --to "
                << report->missing_days(report->missing_days_size() - 1)
                << ", or --roll-up-missing)\n";
  }
  const int64_t unpriced = report->data_quality().unpriced_steps() +
                           report->data_quality().unpriced_quarantined_events();
  if (*parsed_format == v1::REPORT_FORMAT_FOCUS && unpriced > 0) {
    // Unknown is not zero: they are not in the FOCUS file, so say where they are.
    context.err << "stepledger report showback: " << unpriced
                << " unpriced step(s) or rejected event(s) have no amount and are not in the "
                   "FOCUS file; list them with --format unpriced\n";
  }
  if (out_path.empty()) {
    context.out << report->rendered();
    return kExitOk;
  }
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  file << report->rendered();
  file.close();
  if (!file) {
    context.err << "stepledger report showback: cannot write " << out_path << "\n";
    return kExitCantCreate;
  }
  return kExitOk;
}

}  // namespace

int RunReportCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? context.err : context.out)
        << "usage: stepledger report showback [FLAGS]   (stepledger report showback --help)\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args[0] != "showback") {
    context.err << "stepledger report: unknown report '" << args[0] << "' (showback)\n";
    return kExitUsage;
  }
  return RunShowback(context, std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace stepledger::client
