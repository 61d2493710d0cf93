#include "client/cli/invoice_command.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/cli/flags.h"
#include "client/cli/money.h"
#include "client/lib/admin_client.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client {
namespace {

constexpr char kDescription[] =
    "Records what a provider invoiced for a month (replacing an earlier import), through the\n"
    "collector (Admin.ImportInvoice), and prints the reconciliation: invoiced against the\n"
    "spend the ledger attributed to that provider (from the month's rollups); a gap above 5%\n"
    "is flagged.\n"
    "\n"
    "--csv takes the provider's daily totals, one \"YYYY-MM-DD,USD\" line per day (a header\n"
    "line starting with \"date\" is skipped), and imports each month they cover as that\n"
    "month's invoice (the sum of its days, exact to the nano-dollar).\n"
    "Exit status: 0 imported, 3 collector unreachable or failed, 64 usage error, 65 malformed\n"
    "CSV, 66 CSV not readable.";

std::string MonthText(absl::CivilMonth m) {
  return absl::StrFormat("%04d-%02d", m.year(), m.month());
}

}  // namespace

absl::StatusOr<std::map<absl::CivilMonth, int64_t>> ParseDailyInvoiceCsv(const std::string& text) {
  std::map<absl::CivilMonth, int64_t> months;
  std::set<absl::CivilDay> days;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    std::string line(absl::StripAsciiWhitespace(raw));
    if (line.empty() || line[0] == '#') continue;
    if (line_number == 1 && absl::StartsWith(line, "date")) continue;
    auto error = [&](absl::string_view message) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", message));
    };
    // The amount is everything after the first comma, so "$1,250.00" (quoted or not) reads as
    // it would on the command line.
    std::vector<std::string> fields = absl::StrSplit(line, absl::MaxSplits(',', 1));
    if (fields.size() != 2) return error("expected \"YYYY-MM-DD,USD\"");
    absl::string_view amount_text = absl::StripAsciiWhitespace(fields[1]);
    if (amount_text.size() >= 2 && amount_text.front() == '"' && amount_text.back() == '"') {
      amount_text = amount_text.substr(1, amount_text.size() - 2);
    }
    absl::StatusOr<absl::CivilDay> day =
        ParseDay(std::string(absl::StripAsciiWhitespace(fields[0])));
    if (!day.ok()) return error(day.status().message());
    absl::StatusOr<int64_t> amount = ParseDollars(std::string(amount_text));
    if (!amount.ok()) return error(amount.status().message());
    if (!days.insert(*day).second) {
      return error(absl::StrCat("day ", DayText(*day), " listed twice"));
    }
    months[absl::CivilMonth(*day)] += *amount;
  }
  if (months.empty()) return absl::InvalidArgumentError("no daily totals in the file");
  return months;
}

int RunInvoiceCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "import") {
    const bool help = !args.empty() && (args[0] == "--help" || args[0] == "-h");
    (help ? context.out : context.err)
        << "usage: stepledger invoice import --provider P (--period YYYY-MM --amount USD | "
           "--csv FILE) [--reason TEXT]\n       (stepledger invoice import --help)\n";
    return help ? kExitOk : kExitUsage;
  }
  CLI::App app(kDescription, "stepledger invoice import");
  std::string provider, period, amount_text, csv_path, reason;
  app.add_option("--provider", provider, "the provider, as on the steps (openai, ...)")->required();
  CLI::Option* period_flag = app.add_option("--period", period, "the month invoiced, YYYY-MM");
  CLI::Option* amount_flag =
      app.add_option("--amount", amount_text, "what was invoiced, USD (1234.56, $1,234.56)");
  CLI::Option* csv_flag = app.add_option("--csv", csv_path, "daily totals, YYYY-MM-DD,USD");
  app.add_option("--reason", reason,
                 "why, kept with the audit row (which names your key: stepledger prices audit)");
  period_flag->needs(amount_flag);
  amount_flag->needs(period_flag);
  csv_flag->excludes(period_flag)->excludes(amount_flag);
  if (std::optional<int> exit =
          ParseFlags(app, std::vector<std::string>(args.begin() + 1, args.end()), context)) {
    return *exit;
  }
  v1::ImportInvoiceRequest request;
  request.set_provider(provider);
  request.set_reason(reason);
  if (!csv_path.empty()) {
    std::ifstream in(csv_path);
    if (!in) {
      context.err << "stepledger invoice import: cannot read " << csv_path << "\n";
      return kExitNoInput;
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::map<absl::CivilMonth, int64_t>> months = ParseDailyInvoiceCsv(text.str());
    if (!months.ok()) {
      context.err << "stepledger invoice import: " << csv_path << ": " << months.status().message()
                  << "\n";
      return kExitDataError;
    }
    for (const auto& [month, amount] : *months) {
      v1::InvoiceMonth* m = request.add_months();
      m->set_month(MonthText(month));
      m->set_amount_nano_usd(amount);
    }
    request.set_source(absl::StrCat("csv:", csv_path));
  } else if (!period.empty()) {
    absl::StatusOr<absl::CivilMonth> month = ParseMonth(period);
    absl::StatusOr<int64_t> amount = ParseDollars(amount_text);
    for (const absl::Status& s : {month.status(), amount.status()}) {
      if (!s.ok()) {
        context.err << "stepledger invoice import: " << s.message() << "\n";
        return kExitUsage;
      }
    }
    v1::InvoiceMonth* m = request.add_months();
    m->set_month(MonthText(*month));
    m->set_amount_nano_usd(*amount);
    request.set_source("stepledger invoice import");
  } else {
    context.err << "stepledger invoice import: --period and --amount, or --csv, are required\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::ImportInvoiceResponse> response =
      AdminClient(MakeCollectorChannel(context.target)).ImportInvoice(request);
  if (!response.ok()) return RpcFailure(context, "stepledger invoice import", response.status());
  for (const v1::InvoiceMonth& m : request.months()) {
    context.out << "imported " << provider << " " << m.month() << ": "
                << FormatNanoUsd(m.amount_nano_usd()) << " USD"
                << (csv_path.empty() ? "" : " (daily totals)") << "\n";
  }
  for (const v1::InvoiceLine& line : response->reconciliation()) {
    context.out << "  " << line.provider() << " " << line.month() << ": invoiced "
                << Dollars(line.invoiced_nano_usd()) << ", attributed "
                << Dollars(line.attributed_nano_usd()) << ", gap " << Dollars(line.gap_nano_usd())
                << absl::StrFormat(" (%.1f%%)", line.gap_share() * 100)
                << (line.flagged() ? "  FLAGGED: above 5%" : "") << "\n";
  }
  return kExitOk;
}

}  // namespace stepledger::client
