#include "client/cli/budget_command.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/budget_file.h"
#include "client/cli/money.h"
#include "client/lib/admin_client.h"
#include "client/lib/budget_client.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client {
namespace {

using stepledger::v1::Cap;

constexpr char kUsage[] =
    "usage: stepledger budget SUBCOMMAND [FLAGS]\n"
    "\n"
    "Budget caps (docs/BUDGETS.md). Money is in dollars (\"12.50\"), converted exactly.\n"
    "\n"
    "  set --id ID --scope feature|team|tenant|org --key K --period daily|monthly\n"
    "      --limit-usd X --owner O [--env production|staging|eval] [--action alert|require_ack]\n"
    "      [--threshold-pct 80] [--signed-off-by S] [--shadow] [--by WHO]\n"
    "        create or replace one cap (--by defaults to the owner; it is audited)\n"
    "  list [--json]\n"
    "        every cap; --json prints a cap file that `apply` accepts\n"
    "  delete ID --by WHO\n"
    "  apply FILE --by WHO [--prune] [--dry-run]\n"
    "        make the caps match a cap file: puts every cap that differs; --prune also deletes\n"
    "        caps not in the file; prints created/updated/unchanged/deleted counts\n"
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

// ---- command-line parsing ------------------------------------------------------------------

struct Args {
  std::map<std::string, std::string> values;  // flag name without "--" -> value
  std::set<std::string> switches;
  std::vector<std::string> positional;
  bool help = false;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  bool On(const std::string& name) const { return switches.count(name) > 0; }
};

// `--name value`, `--name=value` for value flags; `--name` for switches; the rest positional.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& args, size_t start,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& switch_flags) {
  Args parsed;
  for (size_t i = start; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      return parsed;
    }
    if (arg == "--") {
      parsed.positional.insert(parsed.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (!absl::StartsWith(arg, "--")) {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (switch_flags.count(name) > 0) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
      parsed.switches.insert(name);
      continue;
    }
    if (value_flags.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (!value.has_value()) {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    parsed.values[name] = *value;
  }
  return parsed;
}

const std::set<std::string> kCapValueFlags = {
    "id",  "scope",  "key",           "period", "limit-usd",
    "env", "action", "threshold-pct", "owner",  "signed-off-by"};

// A cap from the `set` flags (names and dollars parsed; the rules are the collector's). With
// `proposed` (whatif), id, owner and signed-off-by may be left out.
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

// ---- output helpers ------------------------------------------------------------------------

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

// ---- subcommands ---------------------------------------------------------------------------

int RunSet(const CliContext& context, const std::vector<std::string>& args) {
  std::set<std::string> value_flags = kCapValueFlags;
  value_flags.insert("by");
  absl::StatusOr<Args> a = ParseArgs(args, 1, value_flags, {"shadow"});
  if (!a.ok()) return Usage(context, "set", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (!a->positional.empty()) {
    return Usage(context, "set", absl::InvalidArgumentError("set takes no positional arguments"));
  }
  absl::StatusOr<Cap> cap = CapFromArgs(*a, /*proposed=*/false);
  if (!cap.ok()) return Usage(context, "set", cap.status());
  const std::string by = a->Get("by", cap->owner());
  absl::StatusOr<Cap> stored = MakeClient(context).Put(*cap, by);
  if (!stored.ok()) return Fail(context, "set", stored.status());
  context.out << "stored cap " << stored->id() << ": " << ScopeName(stored->scope()) << " "
              << stored->key() << " (" << CapEnvironmentName(stored->environment()) << "), "
              << PeriodName(stored->period()) << " limit " << Dollars(stored->limit_nano_usd())
              << ", " << ActionName(stored->action()) << " at "
              << FormatThresholdPct(stored->alert_threshold_bps()) << "%, owner " << stored->owner()
              << (stored->shadow() ? ", shadow" : "") << " (by " << by << ")\n";
  return kExitOk;
}

int RunList(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {}, {"json"});
  if (!a.ok()) return Usage(context, "list", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (!a->positional.empty()) {
    return Usage(context, "list", absl::InvalidArgumentError("list takes no positional arguments"));
  }
  absl::StatusOr<std::vector<Cap>> caps = MakeClient(context).List();
  if (!caps.ok()) return Fail(context, "list", caps.status());
  if (a->On("json")) {
    context.out << FormatBudgetFile(*caps);
    return kExitOk;
  }
  std::sort(caps->begin(), caps->end(), [](const Cap& x, const Cap& y) { return x.id() < y.id(); });
  std::vector<std::vector<std::string>> rows;
  for (const Cap& c : *caps) {
    rows.push_back({c.id(), ScopeName(c.scope()), c.key(), CapEnvironmentName(c.environment()),
                    PeriodName(c.period()), Dollars(c.limit_nano_usd()), ActionName(c.action()),
                    FormatThresholdPct(c.alert_threshold_bps()) + "%", c.owner(),
                    c.shadow() ? "yes" : "no"});
  }
  PrintTable(
      context.out,
      {"ID", "SCOPE", "KEY", "ENV", "PERIOD", "LIMIT", "ACTION", "THRESHOLD", "OWNER", "SHADOW"},
      rows, {5, 7});
  context.out << caps->size() << (caps->size() == 1 ? " cap\n" : " caps\n");
  return kExitOk;
}

int RunDelete(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {"by"}, {});
  if (!a.ok()) return Usage(context, "delete", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (a->positional.size() != 1) {
    return Usage(context, "delete", absl::InvalidArgumentError("expected exactly one cap ID"));
  }
  if (a->Get("by").empty()) {
    return Usage(context, "delete", absl::InvalidArgumentError("--by WHO is required (audited)"));
  }
  const std::string& id = a->positional.front();
  if (absl::Status s = MakeClient(context).Delete(id, a->Get("by")); !s.ok()) {
    return Fail(context, "delete", s);
  }
  context.out << "deleted cap " << id << " (by " << a->Get("by") << ")\n";
  return kExitOk;
}

int RunApply(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {"by"}, {"prune", "dry-run"});
  if (!a.ok()) return Usage(context, "apply", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (a->positional.size() != 1) {
    return Usage(context, "apply", absl::InvalidArgumentError("expected exactly one FILE"));
  }
  const std::string by = a->Get("by");
  if (by.empty()) {
    return Usage(context, "apply", absl::InvalidArgumentError("--by WHO is required (audited)"));
  }
  const std::string& path = a->positional.front();
  absl::StatusOr<std::string> text = ReadInput(context, path);
  if (!text.ok()) {
    context.err << "stepledger budget apply: " << text.status().message() << "\n";
    return kExitNoInput;
  }
  absl::StatusOr<std::vector<Cap>> wanted = ParseBudgetFile(*text);
  if (!wanted.ok()) {
    context.err << "stepledger budget apply: " << path << ": " << wanted.status().message() << "\n";
    return kExitDataError;
  }

  const BudgetClient client = MakeClient(context);
  // The collector validates every cap and fills its defaults before anything changes, so the
  // file is applied or refused as a whole, and "unchanged" compares like with like.
  std::vector<Cap> normalized;
  for (const Cap& cap : *wanted) {
    absl::StatusOr<Cap> checked = client.Validate(cap);
    if (!checked.ok()) {
      if (absl::IsInvalidArgument(checked.status())) {
        context.err << "stepledger budget apply: " << path << ": cap " << cap.id() << ": "
                    << checked.status().message() << " (nothing applied)\n";
        return kExitDataError;
      }
      return Fail(context, "apply", checked.status());
    }
    normalized.push_back(*std::move(checked));
  }
  absl::StatusOr<std::vector<Cap>> current = client.List();
  if (!current.ok()) return Fail(context, "apply", current.status());
  std::map<std::string, Cap> existing;
  for (Cap& c : *current) existing.emplace(c.id(), std::move(c));

  const bool dry = a->On("dry-run");
  const char* verb_prefix = dry ? "would be " : "";
  int created = 0, updated = 0, unchanged = 0, deleted = 0;
  auto summary = [&] {
    context.out << (dry ? "dry run: " : "") << "created " << created << ", updated " << updated
                << ", unchanged " << unchanged << ", deleted " << deleted << "\n";
  };
  std::set<std::string> in_file;
  for (const Cap& cap : normalized) {
    in_file.insert(cap.id());
    auto it = existing.find(cap.id());
    if (it != existing.end() &&
        google::protobuf::util::MessageDifferencer::Equals(it->second, cap)) {
      ++unchanged;
      continue;
    }
    const bool is_new = it == existing.end();
    if (!dry) {
      absl::StatusOr<Cap> stored = client.Put(cap, by);
      if (!stored.ok()) {
        summary();
        return Fail(context, absl::StrCat("apply (cap ", cap.id(), ")"), stored.status());
      }
    }
    ++(is_new ? created : updated);
    context.out << verb_prefix << (is_new ? "created " : "updated ") << cap.id() << "\n";
  }
  if (a->On("prune")) {
    for (const auto& [id, cap] : existing) {
      if (in_file.count(id) > 0) continue;
      if (!dry) {
        if (absl::Status s = client.Delete(id, by); !s.ok() && !absl::IsNotFound(s)) {
          summary();
          return Fail(context, absl::StrCat("apply (delete ", id, ")"), s);
        }
      }
      ++deleted;
      context.out << verb_prefix << "deleted " << id << "\n";
    }
  }
  summary();
  return kExitOk;
}

void PrintCheck(const CliContext& context, const CheckOutcome& outcome) {
  const v1::CheckBudgetResponse& r = outcome.response;
  context.out << "decision: " << DecisionName(r.decision());
  if (!outcome.checked) {
    context.out << " (NOT CHECKED: " << outcome.unchecked_reason.message() << ")\n";
    return;
  }
  if (r.decision() != v1::DECISION_ALLOW && !r.deciding_cap_id().empty()) {
    context.out << " (deciding tier: " << ScopeName(r.deciding_scope()) << ", cap "
                << r.deciding_cap_id() << ")";
  }
  context.out << "\n";
  if (!r.reservation_id().empty()) context.out << "reservation: " << r.reservation_id() << "\n";
  if (r.caps().empty()) {
    context.out << "no cap matches these tags\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::CapStatus& s : r.caps()) {
    rows.push_back({s.cap_id(), ScopeName(s.scope()), s.key(), PeriodName(s.period()),
                    Dollars(s.limit_nano_usd()), Dollars(s.spent_nano_usd()),
                    Dollars(s.reserved_nano_usd()), Dollars(s.acknowledged_headroom_nano_usd()),
                    Dollars(s.remaining_nano_usd()), Dollars(s.burn_rate_nano_usd_per_hour()),
                    s.has_projected_exhaustion_unix_seconds()
                        ? UnixSecondsText(s.projected_exhaustion_unix_seconds())
                        : "-",
                    UnixSecondsText(s.period_end_unix_seconds()), s.owner(),
                    DecisionName(s.decision()) + (s.shadow() ? " (shadow)" : "")});
  }
  PrintTable(context.out,
             {"CAP", "SCOPE", "KEY", "PERIOD", "LIMIT", "SPENT", "RESERVED", "ACKED", "REMAINING",
              "BURN/H", "EXHAUSTED AT", "PERIOD END", "OWNER", "DECISION"},
             rows, {4, 5, 6, 7, 8, 9});
}

int RunCheck(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1,
                                     {"feature", "team", "tenant", "workload-class", "env", "run",
                                      "estimate-usd", "step", "on-unavailable", "timeout"},
                                     {"reserve", "json"});
  if (!a.ok()) return Usage(context, "check", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (!a->positional.empty()) {
    return Usage(context, "check",
                 absl::InvalidArgumentError("check takes no positional arguments"));
  }
  v1::CheckBudgetRequest request;
  v1::Tags* tags = request.mutable_tags();
  tags->set_feature(a->Get("feature"));
  tags->set_team(a->Get("team"));
  tags->set_tenant(a->Get("tenant"));
  tags->set_parent_run_id(a->Get("run"));
  if (a->Has("workload-class")) {
    absl::StatusOr<v1::WorkloadClass> wc = ParseWorkloadClassName(a->Get("workload-class"));
    if (!wc.ok()) return Usage(context, "check", wc.status());
    tags->set_workload_class(*wc);
  }
  absl::StatusOr<v1::Environment> env = ParseEnvironmentName(a->Get("env", "production"));
  if (!env.ok()) return Usage(context, "check", env.status());
  tags->set_environment(*env);
  if (!a->Has("estimate-usd")) {
    return Usage(context, "check", absl::InvalidArgumentError("--estimate-usd is required"));
  }
  absl::StatusOr<int64_t> estimate = ParseDollars(a->Get("estimate-usd"));
  if (!estimate.ok()) {
    return Usage(
        context, "check",
        absl::InvalidArgumentError(absl::StrCat("--estimate-usd: ", estimate.status().message())));
  }
  request.set_estimated_cost_nano_usd(*estimate);
  request.set_reserve(a->On("reserve"));
  request.set_step_id(a->Get("step"));
  if (request.reserve() && request.step_id().empty()) {
    return Usage(context, "check", absl::InvalidArgumentError("--reserve needs --step STEP_ID"));
  }

  BudgetClientOptions options;
  const std::string on_unavailable = a->Get("on-unavailable", "closed");
  if (on_unavailable == "open") {
    options.on_unavailable = OnUnavailable::kFailOpen;
  } else if (on_unavailable != "closed") {
    return Usage(context, "check",
                 absl::InvalidArgumentError("--on-unavailable must be closed or open"));
  }
  if (a->Has("timeout")) {
    absl::StatusOr<absl::Duration> timeout = ParseExpiresIn(a->Get("timeout"));
    if (!timeout.ok()) return Usage(context, "check", timeout.status());
    options.check_timeout = *timeout;
  }
  BudgetClient client(MakeCollectorChannel(context.target), options);
  absl::StatusOr<CheckOutcome> outcome = client.Check(request);
  if (!outcome.ok()) return Fail(context, "check", outcome.status());
  if (a->On("json")) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(outcome->response, &json, print);
    context.out << json << "\n";
  } else {
    PrintCheck(context, *outcome);
  }
  if (!outcome->checked) {
    context.err << "stepledger budget check: the Budget service is unreachable ("
                << CodeName(outcome->unchecked_reason.code()) << "); failing "
                << (options.on_unavailable == OnUnavailable::kFailOpen ? "open: ALLOW"
                                                                       : "closed: REQUIRE_ACK")
                << " without checking any cap\n";
    return options.on_unavailable == OnUnavailable::kFailOpen ? kExitOk : kExitTransport;
  }
  return outcome->decision() == v1::DECISION_REQUIRE_ACK ? kExitRejected : kExitOk;
}

int RunAck(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {"by", "reason", "extra-usd", "expires-in"}, {});
  if (!a.ok()) return Usage(context, "ack", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (a->positional.size() != 1) {
    return Usage(context, "ack", absl::InvalidArgumentError("expected exactly one CAP_ID"));
  }
  for (const char* required : {"by", "reason", "extra-usd", "expires-in"}) {
    if (a->Get(required).empty()) {
      return Usage(context, "ack",
                   absl::InvalidArgumentError(absl::StrCat("--", required, " is required")));
    }
  }
  absl::StatusOr<int64_t> extra = ParseDollars(a->Get("extra-usd"));
  if (!extra.ok()) {
    return Usage(
        context, "ack",
        absl::InvalidArgumentError(absl::StrCat("--extra-usd: ", extra.status().message())));
  }
  absl::StatusOr<absl::Duration> expires_in = ParseExpiresIn(a->Get("expires-in"));
  if (!expires_in.ok()) {
    return Usage(
        context, "ack",
        absl::InvalidArgumentError(absl::StrCat("--expires-in: ", expires_in.status().message())));
  }
  v1::AcknowledgeRequest request;
  request.set_cap_id(a->positional.front());
  request.set_principal(a->Get("by"));
  request.set_reason(a->Get("reason"));
  request.set_extra_headroom_nano_usd(*extra);
  const absl::Time expires = absl::Now() + *expires_in;
  request.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(expires));
  absl::StatusOr<v1::Acknowledgement> ack = MakeClient(context).Acknowledge(request);
  if (!ack.ok()) return Fail(context, "ack", ack.status());
  context.out << "acknowledged " << ack->cap_id() << ": " << ack->id() << ", extra "
              << Dollars(ack->extra_headroom_nano_usd()) << " until " << TimeText(ack->expires_at())
              << ", by " << ack->principal() << " (\"" << ack->reason() << "\")\n";
  return kExitOk;
}

int RunAcks(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {}, {"json"});
  if (!a.ok()) return Usage(context, "acks", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (a->positional.size() > 1) {
    return Usage(context, "acks", absl::InvalidArgumentError("expected at most one CAP_ID"));
  }
  const std::string cap_id = a->positional.empty() ? "" : a->positional.front();
  absl::StatusOr<std::vector<v1::Acknowledgement>> acks =
      MakeClient(context).ListAcknowledgements(cap_id);
  if (!acks.ok()) return Fail(context, "acks", acks.status());
  if (a->On("json")) {
    v1::ListAcknowledgementsResponse response;
    for (const auto& ack : *acks) *response.add_acknowledgements() = ack;
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(response, &json, print);
    context.out << json << "\n";
    return kExitOk;
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<std::vector<std::string>> rows;
  for (const auto& ack : *acks) {
    const bool active = ack.expires_at().seconds() > now;
    rows.push_back({ack.id(), ack.cap_id(), ack.principal(), Dollars(ack.extra_headroom_nano_usd()),
                    Dollars(ack.consumed_nano_usd()), TimeText(ack.created_at()),
                    TimeText(ack.expires_at()), active ? "active" : "expired", ack.reason()});
  }
  PrintTable(context.out,
             {"ID", "CAP", "BY", "EXTRA", "CONSUMED", "CREATED", "EXPIRES", "STATE", "REASON"},
             rows, {3, 4});
  context.out << acks->size() << (acks->size() == 1 ? " acknowledgement\n" : " acknowledgements\n");
  return kExitOk;
}

void PrintWhatIfRows(const CliContext& context, const std::string& title,
                     const google::protobuf::RepeatedPtrField<v1::WhatIfRow>& rows_in) {
  context.out << "\n" << title << "\n";
  if (rows_in.empty()) {
    context.out << "  (none flagged)\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::WhatIfRow& row : rows_in) {
    rows.push_back({"  " + row.name(), Count(row.alert().steps()), Count(row.alert().runs()),
                    Dollars(row.alert().cost_nano_usd()), Count(row.require_ack().steps()),
                    Count(row.require_ack().runs()), Dollars(row.require_ack().cost_nano_usd())});
  }
  PrintTable(context.out,
             {"", "ALERT STEPS", "RUNS", "DOLLARS", "REQUIRE_ACK STEPS", "RUNS", "DOLLARS"}, rows,
             {1, 2, 3, 4, 5, 6});
}

int RunWhatIf(const CliContext& context, const std::vector<std::string>& args) {
  std::set<std::string> value_flags = kCapValueFlags;
  value_flags.insert({"cap-file", "days"});
  absl::StatusOr<Args> a = ParseArgs(args, 1, value_flags, {"shadow"});
  if (!a.ok()) return Usage(context, "whatif", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (!a->positional.empty()) {
    return Usage(context, "whatif",
                 absl::InvalidArgumentError("whatif takes no positional arguments"));
  }
  int days = 30;
  if (a->Has("days") && (!absl::SimpleAtoi(a->Get("days"), &days) || days < 1 || days > 400)) {
    return Usage(context, "whatif", absl::InvalidArgumentError("--days must be 1..400"));
  }
  v1::WhatIfBudgetRequest request;
  request.set_days(days);
  if (a->Has("cap-file")) {
    for (const auto& [name, value] : a->values) {
      if (kCapValueFlags.count(name) > 0) {
        return Usage(
            context, "whatif",
            absl::InvalidArgumentError(absl::StrCat("--cap-file and --", name, " are exclusive")));
      }
    }
    absl::StatusOr<std::string> text = ReadInput(context, a->Get("cap-file"));
    if (!text.ok()) {
      context.err << "stepledger budget whatif: " << text.status().message() << "\n";
      return kExitNoInput;
    }
    absl::StatusOr<std::vector<Cap>> caps = ParseBudgetFile(*text);
    if (!caps.ok()) {
      context.err << "stepledger budget whatif: " << a->Get("cap-file") << ": "
                  << caps.status().message() << "\n";
      return kExitDataError;
    }
    for (Cap& cap : *caps) *request.add_caps() = std::move(cap);
  } else {
    absl::StatusOr<Cap> cap = CapFromArgs(*a, /*proposed=*/true);
    if (!cap.ok()) return Usage(context, "whatif", cap.status());
    *request.add_caps() = *std::move(cap);
  }
  absl::StatusOr<v1::WhatIfBudgetResponse> report =
      AdminClient(MakeCollectorChannel(context.target)).WhatIfBudget(request);
  if (!report.ok()) return Fail(context, "whatif", report.status());

  auto minute = [](const google::protobuf::Timestamp& ts) {
    return absl::FormatTime("%Y-%m-%d %H:%MZ", absl::FromUnixSeconds(ts.seconds()),
                            absl::UTCTimeZone());
  };
  context.out << "what-if: " << report->caps()
              << (report->caps() == 1 ? " proposed cap" : " proposed caps")
              << " against the ledger from " << minute(report->since()) << " to "
              << minute(report->until()) << " (" << report->days() << " days)\n";
  context.out << "replayed: " << Count(report->replayed().steps()) << " steps, "
              << Count(report->replayed().runs()) << " runs, "
              << Dollars(report->replayed().cost_nano_usd()) << "\n";
  context.out << "would have hit ALERT: " << Count(report->total().alert().steps()) << " steps, "
              << Count(report->total().alert().runs()) << " runs, "
              << Dollars(report->total().alert().cost_nano_usd()) << "\n";
  context.out << "would have hit REQUIRE_ACK: " << Count(report->total().require_ack().steps())
              << " steps, " << Count(report->total().require_ack().runs()) << " runs, "
              << Dollars(report->total().require_ack().cost_nano_usd()) << "\n";
  context.out << "(a step counts once, under its strongest decision; counters start at zero at "
                 "the start of the window)\n";
  PrintWhatIfRows(context, "by team", report->by_team());
  PrintWhatIfRows(context, "by feature", report->by_feature());
  PrintWhatIfRows(context, "by cap (each cap's own decision)", report->by_cap());
  return kExitOk;
}

}  // namespace

int RunBudgetCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty()) {
    context.err << kUsage;
    return kExitUsage;
  }
  const std::string& sub = args.front();
  if (sub == "--help" || sub == "-h" || sub == "help") {
    context.out << kUsage;
    return kExitOk;
  }
  if (sub == "set") return RunSet(context, args);
  if (sub == "list") return RunList(context, args);
  if (sub == "delete") return RunDelete(context, args);
  if (sub == "apply") return RunApply(context, args);
  if (sub == "check") return RunCheck(context, args);
  if (sub == "ack") return RunAck(context, args);
  if (sub == "acks") return RunAcks(context, args);
  if (sub == "whatif" || sub == "what-if") return RunWhatIf(context, args);
  context.err << "stepledger budget: unknown subcommand '" << sub << "'\n" << kUsage;
  return kExitUsage;
}

}  // namespace stepledger::client
