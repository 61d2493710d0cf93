#include "client/cli/budget_cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/cli/budget_file.h"
#include "client/cli/flags.h"
#include "client/cli/money.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client::budget_cli {

using stepledger::v1::Cap;

const char kUsage[] =
    "usage: stepledger budget SUBCOMMAND [FLAGS]\n"
    "\n"
    "Budget caps (docs/BUDGETS.md). Money is in dollars (\"12.50\"), converted exactly.\n"
    "\n"
    "  set --id ID --scope feature|team|tenant|org --key K --period daily|monthly\n"
    "      --limit-usd X --owner O [--env production|staging|eval] [--action alert|require_ack]\n"
    "      [--threshold-pct 80] [--signed-off-by S] [--shadow] [--by WHO]\n"
    "      [--stale-policy answer|alert|require_ack]\n"
    "        create or replace one cap (--by defaults to the owner; it is a note: the audit\n"
    "        records the credential). A change that loosens an enforced cap (higher limit,\n"
    "        weaker action or stale policy, higher threshold, shadow, other scope/key/env/\n"
    "        period/owner) is only proposed until a second credential approves it; any other\n"
    "        change takes effect at once and awaits sign-off. --signed-off-by is a note only\n"
    "  list [--json]\n"
    "        every cap; --json prints a cap file that `apply` accepts\n"
    "  delete ID --by WHO\n"
    "        an enforced cap is only proposed for deletion until a second credential approves\n"
    "  apply FILE --by WHO [--prune] [--dry-run]\n"
    "        make the caps match a cap file: puts every cap that differs; --prune also deletes\n"
    "        caps not in the file; prints created/updated/unchanged/deleted counts and which\n"
    "        changes are pending approval\n"
    "  pending [CAP_ID] [--json]\n"
    "        changes waiting for a second credential: loosening proposals, caps awaiting\n"
    "        sign-off\n"
    "  approve --id CAP_ID [--proposal N | --revision R] [--reason TEXT]\n"
    "        as a second credential (never the one that made the change): apply the cap's\n"
    "        open proposal, or sign off its revision in force (the one shown is pinned)\n"
    "  check --feature F --team T --tenant X --workload-class interactive|batch|eval|background\n"
    "        --env production --run R --estimate-usd X [--reserve --step S]\n"
    "        [--on-unavailable closed|open] [--json]\n"
    "        ask for a decision; exit 0 ALLOW/ALERT, 2 REQUIRE_ACK, 3 unreachable (closed)\n"
    "  ack CAP_ID --by WHO --reason TEXT --extra-usd X --expires-in 24h|90m|7d\n"
    "  acks [CAP_ID] [--json]\n"
    "  whatif (--cap-file FILE | <set flags>) [--days 30] [--database-url URL]\n"
    "        replay the last N days of the ledger (read from PostgreSQL; URL also from\n"
    "        STEPLEDGER_DATABASE_URL) against proposed caps\n"
    "\n"
    "Exit status: 0 ok, 2 REQUIRE_ACK (check), 3 transport failure, 4 no such cap, 64 usage\n"
    "error or refused values, 65 malformed cap file, 66 file not readable.\n";

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& args, size_t start,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& switch_flags) {
  Args parsed;
  CLI::App app("stepledger budget");
  for (const std::string& name : value_flags) {
    app.add_option_function<std::string>(
        "--" + name, [&parsed, name](const std::string& v) { parsed.values[name] = v; });
  }
  for (const std::string& name : switch_flags) {
    app.add_flag_callback("--" + name, [&parsed, name] { parsed.switches.insert(name); });
  }
  app.add_option("args", parsed.positional);
  absl::StatusOr<bool> help = ParseArgsInto(
      app, std::vector<std::string>(args.begin() + static_cast<long>(start), args.end()));
  if (!help.ok()) return help.status();
  parsed.help = *help;
  return parsed;
}

const std::set<std::string> kCapValueFlags = {
    "id",     "scope",         "key",   "period",        "limit-usd",   "env",
    "action", "threshold-pct", "owner", "signed-off-by", "stale-policy"};

absl::StatusOr<Cap> CapFromArgs(const Args& a, bool proposed) {
  Cap cap;
  cap.set_id(a.Get("id"));
  if (cap.id().empty() && !proposed) return absl::InvalidArgumentError("--id is required");
  for (const char* required : {"scope", "period", "limit-usd"}) {
    if (!a.Has(required)) {
      return absl::InvalidArgumentError(absl::StrCat("--", required, " is required"));
    }
  }
  absl::StatusOr<v1::Scope> scope = ParseScopeName(a.Get("scope"));
  if (!scope.ok())
    return absl::InvalidArgumentError(absl::StrCat("--scope: ", scope.status().message()));
  cap.set_scope(*scope);
  if (!a.Has("key") && *scope != v1::SCOPE_ORG) {
    return absl::InvalidArgumentError("--key is required (the feature, team or tenant limited)");
  }
  cap.set_key(a.Get("key"));
  if (a.Has("env")) {
    absl::StatusOr<v1::Environment> env = ParseEnvironmentName(a.Get("env"));
    if (!env.ok())
      return absl::InvalidArgumentError(absl::StrCat("--env: ", env.status().message()));
    cap.set_environment(*env);
  }
  absl::StatusOr<v1::Period> period = ParsePeriodName(a.Get("period"));
  if (!period.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--period: ", period.status().message()));
  }
  cap.set_period(*period);
  absl::StatusOr<int64_t> limit = ParseDollars(a.Get("limit-usd"));
  if (!limit.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--limit-usd: ", limit.status().message()));
  }
  cap.set_limit_nano_usd(*limit);
  if (a.Has("action")) {
    absl::StatusOr<v1::CapAction> action = ParseActionName(a.Get("action"));
    if (!action.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--action: ", action.status().message()));
    }
    cap.set_action(*action);
  }
  if (a.Has("stale-policy")) {
    absl::StatusOr<v1::StalePolicy> policy = ParseStalePolicyName(a.Get("stale-policy"));
    if (!policy.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--stale-policy: ", policy.status().message()));
    }
    cap.set_stale_policy(*policy);
  }
  if (a.Has("threshold-pct")) {
    absl::StatusOr<int32_t> bps = ParseThresholdPct(a.Get("threshold-pct"));
    if (!bps.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--threshold-pct: ", bps.status().message()));
    }
    cap.set_alert_threshold_bps(*bps);
  }
  cap.set_owner(a.Get("owner"));
  if (cap.owner().empty() && !proposed) return absl::InvalidArgumentError("--owner is required");
  cap.set_signed_off_by(a.Get("signed-off-by"));
  cap.set_shadow(a.On("shadow"));
  return cap;  // The collector validates it (one home for the cap rules).
}

std::string UnixSecondsText(int64_t seconds) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", absl::FromUnixSeconds(seconds),
                          absl::UTCTimeZone());
}

std::string TimeText(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return UnixSecondsText(ts.seconds());
}

// A plain text table: columns padded to their widest cell; `right` columns right-aligned.
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, const std::set<size_t>& right) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      const size_t pad = width[c] - cells[c].size();
      if (c > 0) text += "  ";
      if (right.count(c) > 0) text.append(pad, ' ');
      text += cells[c];
      if (right.count(c) == 0 && c + 1 < cells.size()) text.append(pad, ' ');
    }
    out << text << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string CodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

// The exit status for an RPC error, after printing it.
int Fail(const CliContext& context, const std::string& what, const absl::Status& status) {
  return RpcFailure(context, "stepledger budget " + what, status);
}

int Usage(const CliContext& context, const std::string& what, const absl::Status& status) {
  context.err << "stepledger budget " << what << ": " << status.message() << "\n"
              << "run `stepledger budget --help` for usage\n";
  return kExitUsage;
}

BudgetClient MakeClient(const CliContext& context) {
  return BudgetClient(MakeCollectorChannel(context.target));
}

// Reads a whole file ("-" is the context's input). NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadInput(const CliContext& context, const std::string& path) {
  std::stringstream buffer;
  if (path == "-") {
    buffer << context.in.rdbuf();
    return buffer.str();
  }
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  buffer << file.rdbuf();
  return buffer.str();
}

}  // namespace stepledger::client::budget_cli
