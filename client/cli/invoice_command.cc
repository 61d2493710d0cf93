#include "client/cli/invoice_command.h"

#include "client/cli/admin_flags.h"
#include "server/domain/reports/render.h"
#include "server/storage/showback_source.h"

namespace stepledger::client {
namespace {

constexpr char kUsage[] =
    "usage: stepledger invoice import --provider PROVIDER --period YYYY-MM --amount USD\n"
    "                                 [--database-url URL]\n"
    "\n"
    "Records what a provider invoiced for a month (replacing an earlier import). The showback\n"
    "report then compares it with the spend attributed to that provider; a gap above 5% is\n"
    "flagged.\n";

}  // namespace

int RunInvoiceCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "import") {
    const bool help = !args.empty() && (args[0] == "--help" || args[0] == "-h");
    (help ? context.out : context.err) << kUsage;
    return help ? kExitOk : kExitUsage;
  }
  auto flags = ParseAdminFlags(args, 1, {"provider", "period", "amount", "database-url"});
  if (!flags.ok()) {
    context.err << "invoice: " << flags.status().message() << "\n" << kUsage;
    return kExitUsage;
  }
  if (flags->count("help")) {
    context.out << kUsage;
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
