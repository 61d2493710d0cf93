#include "client/cli/budget_command.h"

#include <google/protobuf/util/json_util.h>

#include <map>
#include <set>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/cli/budget_cli.h"
#include "client/cli/budget_file.h"
#include "client/cli/money.h"
#include "client/lib/admin_client.h"
#include "client/lib/budget_client.h"
#include "client/lib/step_stream_client.h"

namespace stepledger::client {
namespace budget_cli {

using stepledger::v1::Cap;

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
  if (stored->proposal_id() != 0) {
    context.out << "proposed cap " << stored->id() << " as proposal " << stored->proposal_id()
                << ": it loosens an enforced cap, so the cap in force stays until a second "
                   "credential approves it (stepledger budget approve "
                << stored->id() << ")\n";
    return kExitOk;
  }
  context.out << "stored cap " << stored->id() << ": " << ScopeName(stored->scope()) << " "
              << stored->key() << " (" << CapEnvironmentName(stored->environment()) << "), "
              << PeriodName(stored->period()) << " limit " << Dollars(stored->limit_nano_usd())
              << ", " << ActionName(stored->action()) << " at "
              << FormatThresholdPct(stored->alert_threshold_bps()) << "%, owner " << stored->owner()
              << (stored->shadow() ? ", shadow" : "") << ", if stale "
              << StalePolicyName(stored->stale_policy()) << " (by " << by << ")"
              << SignOffText(*stored) << "\n";
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
                    c.shadow() ? "yes" : "no", StalePolicyName(c.stale_policy())});
  }
  PrintTable(context.out,
             {"ID", "SCOPE", "KEY", "ENV", "PERIOD", "LIMIT", "ACTION", "THRESHOLD", "OWNER",
              "SHADOW", "IF STALE"},
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
  absl::StatusOr<v1::DeleteBudgetResponse> deleted = MakeClient(context).Delete(id, a->Get("by"));
  if (!deleted.ok()) return Fail(context, "delete", deleted.status());
  if (deleted->proposal_id() != 0) {
    context.out << "delete of cap " << id << " proposed as proposal " << deleted->proposal_id()
                << ": the cap is enforced, so it stays in force until a second credential "
                   "approves (stepledger budget approve "
                << id << ")\n";
    return kExitOk;
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
  int created = 0, updated = 0, unchanged = 0, deleted = 0, pending = 0;
  auto summary = [&] {
    context.out << (dry ? "dry run: " : "") << "created " << created << ", updated " << updated
                << ", unchanged " << unchanged << ", deleted " << deleted;
    if (pending > 0) {
      context.out << "; " << pending << " pending a second credential's approval (stepledger "
                  << "budget pending)";
    }
    context.out << "\n";
  };
  std::set<std::string> in_file;
  for (const Cap& cap : normalized) {
    in_file.insert(cap.id());
    auto it = existing.find(cap.id());
    if (it != existing.end() && SameSettings(it->second, cap)) {
      ++unchanged;
      continue;
    }
    const bool is_new = it == existing.end();
    std::string note;
    if (!dry) {
      absl::StatusOr<Cap> stored = client.Put(cap, by);
      if (!stored.ok()) {
        summary();
        return Fail(context, absl::StrCat("apply (cap ", cap.id(), ")"), stored.status());
      }
      if (stored->proposal_id() != 0) {
        ++pending;
        note = absl::StrCat(" (loosens: pending approval as proposal ", stored->proposal_id(),
                            "; the cap in force is unchanged)");
      } else {
        note = SignOffText(*stored);
      }
    }
    ++(is_new ? created : updated);
    context.out << verb_prefix << (is_new ? "created " : "updated ") << cap.id() << note << "\n";
  }
  if (a->On("prune")) {
    for (const auto& [id, cap] : existing) {
      if (in_file.count(id) > 0) continue;
      std::string note;
      if (!dry) {
        absl::StatusOr<v1::DeleteBudgetResponse> d = client.Delete(id, by);
        if (!d.ok() && !absl::IsNotFound(d.status())) {
          summary();
          return Fail(context, absl::StrCat("apply (delete ", id, ")"), d.status());
        }
        if (d.ok() && d->proposal_id() != 0) {
          ++pending;
          note = absl::StrCat(" (pending approval as proposal ", d->proposal_id(),
                              "; the cap stays in force)");
        }
      }
      ++deleted;
      context.out << verb_prefix << "deleted " << id << note << "\n";
    }
  }
  summary();
  return kExitOk;
}

}  // namespace budget_cli

int RunBudgetCommand(const CliContext& context, const std::vector<std::string>& args) {
  if (args.empty()) {
    context.err << budget_cli::kUsage;
    return kExitUsage;
  }
  const std::string& sub = args.front();
  if (sub == "--help" || sub == "-h" || sub == "help") {
    context.out << budget_cli::kUsage;
    return kExitOk;
  }
  if (sub == "set") return budget_cli::RunSet(context, args);
  if (sub == "list") return budget_cli::RunList(context, args);
  if (sub == "delete") return budget_cli::RunDelete(context, args);
  if (sub == "apply") return budget_cli::RunApply(context, args);
  if (sub == "check") return budget_cli::RunCheck(context, args);
  if (sub == "ack") return budget_cli::RunAck(context, args);
  if (sub == "acks") return budget_cli::RunAcks(context, args);
  if (sub == "whatif" || sub == "what-if") return budget_cli::RunWhatIf(context, args);
  if (sub == "approve") return budget_cli::RunApprove(context, args);
  if (sub == "pending") return budget_cli::RunPending(context, args);
  context.err << "stepledger budget: unknown subcommand '" << sub << "'\n" << budget_cli::kUsage;
  return kExitUsage;
}

}  // namespace stepledger::client
