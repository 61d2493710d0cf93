#include "client/cli/invoice_command.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/admin_flags.h"
#include "server/domain/reports/render.h"
#include "server/storage/showback_source.h"

namespace stepledger::client {
namespace {

constexpr char kUsage[] =
    "usage: stepledger invoice import --provider PROVIDER --period YYYY-MM --amount USD\n"
    "                                 [--database-url URL]\n"
    "       stepledger invoice import --provider PROVIDER --csv FILE [--database-url URL]\n"
    "\n"
    "Records what a provider invoiced for a month (replacing an earlier import). The showback\n"
    "report then compares it with the spend attributed to that provider; a gap above 5% is\n"
    "flagged.\n"
    "\n"
    "--csv takes the provider's daily totals, one \"YYYY-MM-DD,USD\" line per day (a header\n"
    "line starting with \"date\" is skipped), and imports each month they cover as that\n"
    "month's invoice (the sum of its days, exact to the nano-dollar).\n";

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
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": expected \"YYYY-MM-DD,USD\""));
    }
    absl::StatusOr<absl::CivilDay> day =
        ParseDay(std::string(absl::StripAsciiWhitespace(fields[0])));
    absl::StatusOr<int64_t> amount = ParseUsd(std::string(absl::StripAsciiWhitespace(fields[1])));
    if (!day.ok()) return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", day.status().message()));
    if (!amount.ok()) return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": ", amount.status().message()));
    if (!days.insert(*day).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": day ", absl::FormatCivilTime(*day), " listed twice"));
    }
    months[absl::CivilMonth(*day)] += *amount;
  }
  if (months.empty()) return absl::InvalidArgumentError("no daily totals in the file");
  return months;
}

int RunInvoiceCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "import") {
    const bool help = !args.empty() && (args[0] == "--help" || args[0] == "-h");
    (help ? context.out : context.err) << kUsage;
    return help ? kExitOk : kExitUsage;
  }
  auto flags = ParseAdminFlags(args, 1, {"provider", "period", "amount", "database-url", "csv"});
  if (!flags.ok()) {
    context.err << "invoice: " << flags.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  if (flags->count("help")) {
    context.out << kUsage;
    return kExitOk;
  }
  if (flags->count("csv")) {
    if (!flags->count("provider") || flags->at("provider").empty()) {
      context.err << "invoice: --provider is required\n" << kUsage;
      return kExitUsage;
    }
    std::ifstream in(flags->at("csv"));
    if (!in) {
      context.err << "invoice: cannot read " << flags->at("csv") << "\n";
      return kExitUsage;
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::map<absl::CivilMonth, int64_t>> months = ParseDailyInvoiceCsv(text.str());
    absl::StatusOr<std::string> url = DatabaseUrlFrom(*flags);
    for (const absl::Status& s : {months.status(), url.status()}) {
      if (!s.ok()) {
        context.err << "invoice: " << flags->at("csv") << ": " << s.message() << "\n";
        return kExitUsage;
      }
    }
    for (const auto& [month, amount] : *months) {
      if (absl::Status s = storage::ImportInvoice(*url, flags->at("provider"), month, amount,
                                                  absl::StrCat("csv:", flags->at("csv")));
          !s.ok()) {
        context.err << "invoice: " << s << "\n";
        return kExitTransport;
      }
      context.out << "imported " << flags->at("provider") << " " << absl::FormatCivilTime(month)
                  << ": " << domain::reports::FormatUsd(amount, 2) << " USD (daily totals)\n";
    }
    return kExitOk;
  }
  for (const char* required : {"provider", "period", "amount"}) {
    if (!flags->count(required) || flags->at(required).empty()) {
      context.err << "invoice: --" << required << " is required\n" << kUsage;
      return kExitUsage;
    }
  }
  absl::StatusOr<absl::CivilMonth> month = ParseMonth(flags->at("period"));
  absl::StatusOr<int64_t> amount = ParseUsd(flags->at("amount"));
  absl::StatusOr<std::string> url = DatabaseUrlFrom(*flags);
  for (const absl::Status& s : {month.status(), amount.status(), url.status()}) {
    if (!s.ok()) {
      context.err << "invoice: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  if (absl::Status s = storage::ImportInvoice(*url, flags->at("provider"), *month, *amount,
                                              "stepledger invoice import");
      !s.ok()) {
    context.err << "invoice: " << s << "\n";
    return kExitTransport;
  }
  context.out << "imported " << flags->at("provider") << " " << flags->at("period") << ": "
              << domain::reports::FormatUsd(*amount, 2) << " USD\n";
  return kExitOk;
}

}  // namespace stepledger::client
