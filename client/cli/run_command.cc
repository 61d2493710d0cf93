#include "client/cli/run_command.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/flags.h"
#include "client/lib/run_client.h"

namespace stepledger::client {
namespace {

using stepledger::v1::Run;
using stepledger::v1::RunNode;

constexpr char kUsage[] =
    "usage: stepledger run show RUN_ID [--json] [--timeout SECONDS]\n"
    "\n"
    "Shows one agent run as the collector stored it: its steps nested by parent_step_id, each\n"
    "with its own cost and its subtree's cost, the run's total, and any orphans (steps whose\n"
    "parent never arrived), invalid steps and issues.\n"
    "\n"
    "  --json               print the Run message as protobuf JSON instead of a table\n"
    "  --timeout SECONDS    give up after this long (default 30)\n"
    "\n"
    "Exit status: 0 shown, 3 transport failure, 4 no such run, 64 usage error.\n";

struct RunFlags {
  std::string run_id;
  bool json = false;
  int timeout_seconds = 30;
  bool help = false;
};

absl::StatusOr<RunFlags> ParseRunFlags(const std::vector<std::string>& args) {
  RunFlags flags;
  if (args.empty()) return absl::InvalidArgumentError("missing subcommand (show)");
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    flags.help = true;
    return flags;
  }
  if (args[0] != "show") {
    return absl::InvalidArgumentError(absl::StrCat("unknown subcommand '", args[0], "'"));
  }
  std::vector<std::string> positional;
  CLI::App app("stepledger run show");
  app.add_flag("--json", flags.json, "print the Run message as protobuf JSON");
  app.add_option("--timeout", flags.timeout_seconds, "give up after this many seconds")
      ->check(CLI::Range(1, 86400));
  app.add_option("RUN_ID", positional, "the run (parent_run_id)");
  absl::StatusOr<bool> help =
      ParseArgsInto(app, std::vector<std::string>(args.begin() + 1, args.end()));
  if (!help.ok()) return help.status();
  if (*help) {
    flags.help = true;
    return flags;
  }
  if (positional.size() != 1) {
    return absl::InvalidArgumentError(positional.empty() ? "missing RUN_ID"
                                                         : "expected exactly one RUN_ID");
  }
  flags.run_id = positional.front();
  return flags;
}

std::string KindName(stepledger::v1::StepKind kind) {
  std::string name = stepledger::v1::StepKind_Name(kind);
  constexpr std::string_view kPrefix = "STEP_KIND_";
  if (absl::StartsWith(name, std::string(kPrefix))) name.erase(0, kPrefix.size());
  absl::AsciiStrToLower(&name);
  return name.empty() ? "other" : name;
}

std::string WorkloadName(stepledger::v1::WorkloadClass v) {
  std::string name = stepledger::v1::WorkloadClass_Name(v);
  name.erase(0, std::string("WORKLOAD_CLASS_").size());
  absl::AsciiStrToLower(&name);
  return name;
}

std::string EnvironmentName(stepledger::v1::Environment v) {
  std::string name = stepledger::v1::Environment_Name(v);
  name.erase(0, std::string("ENVIRONMENT_").size());
  absl::AsciiStrToLower(&name);
  return name;
}

std::string OwnCost(const RunNode& n) {
  return n.has_own_cost_nano_usd() ? FormatDollars(n.own_cost_nano_usd()) : "unpriced";
}

// Columns of the step table; `right` columns hold numbers and are right-aligned.
struct Column {
  std::string_view title;
  bool right;
};
constexpr Column kColumns[] = {
    {"STEP", false},        {"KIND", false},       {"NAME", false},        {"MODEL", false},
    {"TOKENS", true},       {"OWN COST", true},    {"SUBTREE COST", true}, {"STATUS", false},
    {"ATTRIBUTION", false}, {"TOOL OWNER", false},
};
constexpr size_t kColumnCount = sizeof(kColumns) / sizeof(kColumns[0]);
using Row = std::array<std::string, kColumnCount>;

Row NodeRow(const RunNode& n, int depth) {
  std::string step = std::string(2 * depth, ' ') + n.step_id();
  if (n.attempts() > 1) absl::StrAppend(&step, " [", n.attempt(), "/", n.attempts(), "]");
  if (n.duplicate_step_id()) absl::StrAppend(&step, " (duplicate id)");
  if (n.children_omitted()) absl::StrAppend(&step, " (children not shown)");
  std::string attribution = n.attribution_status();
  if (n.tag_drift()) absl::StrAppend(&attribution, "+drift");
  return Row{step,
             KindName(n.kind()),
             n.name(),
             n.model(),
             FormatTokens(n.usage()),
             OwnCost(n),
             FormatDollars(n.subtree_cost_nano_usd()),
             n.status(),
             attribution,
             n.tool_owner_team()};
}

// Pre-order rows of the subtree under `top`, indented from `depth`. Iterative: a deep chain
// cannot overflow the stack.
void AppendRows(const RunNode& top, std::vector<Row>& rows) {
  std::vector<std::pair<const RunNode*, int>> stack{{&top, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    rows.push_back(NodeRow(*node, depth));
    for (int i = node->children_size() - 1; i >= 0; --i) {
      stack.emplace_back(&node->children(i), depth + 1);
    }
  }
}

void PrintTable(const std::vector<Row>& rows, std::ostream& out) {
  std::array<size_t, kColumnCount> width{};
  for (size_t c = 0; c < kColumnCount; ++c) width[c] = kColumns[c].title.size();
  for (const Row& row : rows) {
    for (size_t c = 0; c < kColumnCount; ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto print = [&](const auto& cell_of) {
    std::string line = "  ";
    for (size_t c = 0; c < kColumnCount; ++c) {
      const std::string cell(cell_of(c));
      const std::string pad(width[c] - cell.size(), ' ');
      if (c > 0) line += "  ";
      line += kColumns[c].right ? pad + cell : cell + pad;
    }
    line.erase(line.find_last_not_of(' ') + 1);  // No trailing blanks.
    out << line << '\n';
  };
  print([](size_t c) { return kColumns[c].title; });
  for (const Row& row : rows) print([&row](size_t c) { return std::string_view(row[c]); });
}

std::string Timestamp(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

std::string ChargedTo(const Run& run) {
  if (!run.has_charged_tags()) {
    return "nobody yet: the run's root step has not arrived (steps below it are pending)";
  }
  const stepledger::v1::Tags& t = run.charged_tags();
  return absl::StrCat("feature ", t.feature(), ", team ", t.team(), ", tenant ", t.tenant(), " (",
                      WorkloadName(t.workload_class()), ", ", EnvironmentName(t.environment()),
                      ")");
}

}  // namespace

std::string FormatDollars(int64_t nano_usd) {
  // Work on the magnitude in unsigned arithmetic: |INT64_MIN| does not fit in int64_t.
  const bool negative = nano_usd < 0;
  const uint64_t magnitude =
      negative ? 0 - static_cast<uint64_t>(nano_usd) : static_cast<uint64_t>(nano_usd);
  const uint64_t micro = magnitude / 1000 + (magnitude % 1000 >= 500 ? 1 : 0);
  std::string fraction = absl::StrCat(micro % 1'000'000);
  fraction.insert(0, 6 - fraction.size(), '0');
  return absl::StrCat(negative ? "-" : "", "$", micro / 1'000'000, ".", fraction);
}

std::string FormatTokens(const stepledger::v1::Usage& u) {
  bool known = false;
  int64_t sum = 0;
  auto add = [&](bool has, int64_t v) {
    if (!has) return;
    known = true;
    sum += v;
  };
  add(u.has_input_uncached_tokens(), u.input_uncached_tokens());
  add(u.has_cache_read_tokens(), u.cache_read_tokens());
  add(u.has_cache_write_tokens(), u.cache_write_tokens());
  add(u.has_output_tokens(), u.output_tokens());
  add(u.has_reasoning_tokens(), u.reasoning_tokens());
  return known ? absl::StrCat(sum) : "?";
}

void RenderRun(const Run& run, std::ostream& out) {
  out << "run " << run.run_id() << '\n' << "charged to " << ChargedTo(run) << "\n\n";

  std::vector<Row> rows;
  for (const RunNode& root : run.roots()) AppendRows(root, rows);
  if (rows.empty()) {
    out << "  (no root step stored yet; the run's steps are listed under orphans)\n";
  } else {
    PrintTable(rows, out);
  }

  out << "\nTotals\n"
      << "  total cost    " << FormatDollars(run.total_cost_nano_usd()) << '\n'
      << "  retries       " << FormatDollars(run.retry_cost_nano_usd()) << " (" << run.retry_steps()
      << " retried step" << (run.retry_steps() == 1 ? "" : "s") << ")\n"
      << "  orphans       " << FormatDollars(run.orphan_cost_nano_usd()) << '\n'
      << "  invalid       " << FormatDollars(run.invalid_cost_nano_usd()) << '\n'
      << "  steps         " << run.step_count() << " (unpriced " << run.unpriced_steps()
      << ", pending " << run.pending_steps() << ", tag drift " << run.drift_steps() << ")\n";
  if (run.has_first_seen()) {
    out << "  started       " << Timestamp(run.first_seen()) << " .. " << Timestamp(run.last_seen())
        << '\n';
  }
  if (run.unpriced_steps() > 0) {
    out << "  (unpriced steps count as $0 in every total)\n";
  }

  if (run.orphans_size() > 0) {
    out << "\nOrphans: " << run.orphans_size()
        << " subtree(s) whose parent is missing (their cost is in the total)\n";
    for (const RunNode& orphan : run.orphans()) {
      const bool never_seen = orphan.orphan_reason() != "parent_invalid";
      out << "  parent '" << orphan.parent_step_id() << "' "
          << (never_seen ? "never seen" : "is invalid") << ": " << orphan.subtree_steps()
          << " step(s), " << FormatDollars(orphan.subtree_cost_nano_usd()) << '\n';
      std::vector<Row> orphan_rows;
      AppendRows(orphan, orphan_rows);
      PrintTable(orphan_rows, out);
    }
  }
  if (run.invalid_size() > 0) {
    out << "\nInvalid steps: " << run.invalid_size() << " (their cost is in the total)\n";
    for (const auto& inv : run.invalid()) {
      out << "  " << inv.step().step_id() << "  " << inv.reason() << "  " << OwnCost(inv.step())
          << "  " << inv.detail() << '\n';
    }
  }
  if (run.issues_size() > 0) {
    out << "\nIssues\n";
    for (const std::string& issue : run.issues()) out << "  " << issue << '\n';
  }
}

int RunRunCommand(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<RunFlags> flags = ParseRunFlags(args);
  if (!flags.ok()) {
    context.err << "stepledger run: " << flags.status().message() << "\n\n" << kUsage;
    return kExitUsage;
  }
  if (flags->help) {
    context.out << kUsage;
    return kExitOk;
  }
  absl::StatusOr<Run> run =
      GetRun(context.target, flags->run_id, absl::Seconds(flags->timeout_seconds));
  if (!run.ok()) {
    switch (run.status().code()) {
      case absl::StatusCode::kNotFound:
        context.err << "stepledger run show: run '" << flags->run_id
                    << "' not found: the collector at " << context.target
                    << " has no stored step with this parent_run_id\n";
        return kExitNotFound;
      case absl::StatusCode::kInvalidArgument:
        context.err << "stepledger run show: " << run.status().message() << '\n';
        return kExitUsage;
      default:
        context.err << "stepledger run show: GetRun on " << context.target
                    << " failed: " << run.status().ToString() << '\n';
        return kExitTransport;
    }
  }
  if (flags->json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    if (!google::protobuf::util::MessageToJsonString(*run, &json, options).ok()) {
      context.err << "stepledger run show: cannot print the run as JSON\n";
      return kExitTransport;
    }
    context.out << json << '\n';
    return kExitOk;
  }
  RenderRun(*run, context.out);
  return kExitOk;
}

}  // namespace stepledger::client
