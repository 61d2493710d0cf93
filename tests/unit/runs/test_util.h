// Helpers shared by the run tests: building StepRecords and a canonical text of a RunTree,
// so "the same tree" can be checked as string equality with a readable diff.
#ifndef STEPLEDGER_TESTS_UNIT_RUNS_TEST_UTIL_H_
#define STEPLEDGER_TESTS_UNIT_RUNS_TEST_UTIL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "server/domain/runs/attribution.h"
#include "server/domain/runs/run_tree.h"
#include "server/domain/runs/step_record.h"
#include "server/domain/step.h"

namespace stepledger::domain::runs {

inline constexpr char kRun[] = "run-1";

// A minimal stored step of run kRun.
inline StepRecord Rec(std::string step_id, std::string parent, std::optional<NanoUsd> cost,
                      int started_s = 0, std::string event_id = "") {
  StepRecord r;
  r.event_id = event_id.empty() ? "e-" + step_id : std::move(event_id);
  r.step_id = std::move(step_id);
  r.parent_step_id = std::move(parent);
  r.cost_nano_usd = cost;
  r.own_tags.parent_run_id = kRun;
  r.started_at = absl::FromUnixSeconds(1'700'000'000 + started_s);
  return r;
}

// A stored step as the write path records it, with `attribution` as its charge.
inline StepRecord MakeStepRecord(const Step& step, const Attribution& attribution) {
  StepRecord r;
  r.event_id = step.event_id;
  r.step_id = step.step_id;
  r.parent_step_id = step.parent_step_id;
  r.kind = step.kind;
  r.name = step.name;
  r.model = step.model;
  r.provider = step.provider;
  r.usage = step.usage;
  r.cost_nano_usd = step.cost_nano_usd;
  r.operation_id = step.operation_id;
  r.attempt = step.attempt;
  r.tool_name = step.tool_name;
  r.tool_owner_team = step.tool_owner_team;
  r.status = step.status;
  r.attribution_status = attribution.status;
  r.tag_drift = attribution.tag_drift();
  r.own_tags = step.tags;
  r.charged_tags = attribution.charged;
  r.started_at = step.started_at;
  return r;
}

// Resolves attribution against the run's root (as the write path would) and projects.
inline std::vector<StepRecord> ToRecords(const std::vector<Step>& steps, const Tags& root) {
  std::vector<StepRecord> out;
  for (const Step& s : steps) {
    absl::StatusOr<Attribution> a = ResolveAttribution(s, root);
    out.push_back(MakeStepRecord(s, a.ok() ? *a : Attribution{}));
  }
  return out;
}

// absl::StrCat takes absl::string_view, which is not std::string_view in this Abseil build.
template <typename Enum>
std::string Str(Enum v) {
  return std::string(ToString(v));
}

inline std::string CanonicalText(const RunTree& t) {
  std::string out;
  const RunTotals& x = t.totals;
  absl::StrAppend(&out, "run ", t.run_id, " total=", x.total_nano_usd, " tree=", x.tree_nano_usd,
                  " orphan=", x.orphan_nano_usd, " invalid=", x.invalid_nano_usd,
                  " retry=", x.retry_nano_usd, " steps=", x.steps, " unpriced=", x.unpriced_steps,
                  " dup_events=", x.duplicate_events_ignored, "\n");
  absl::StrAppend(&out, "root=", t.root.value_or(-1), " roots=", absl::StrJoin(t.roots, ","), "\n");
  for (size_t i = 0; i < t.nodes.size(); ++i) {
    const RunNode& n = t.nodes[i];
    absl::StrAppend(&out, std::string(2 * n.depth, ' '), i, " ", n.step.step_id,
                    " ev=", n.step.event_id, " parent=", n.parent,
                    " kids=", absl::StrJoin(n.children, ","), " own=", n.own_cost_nano_usd,
                    " sub=", n.subtree_cost_nano_usd, " subretry=", n.subtree_retry_cost_nano_usd,
                    " substeps=", n.subtree_steps, " unpriced=", n.subtree_unpriced_steps,
                    " attempts=", n.attempts, " dup=", n.duplicate_step_id,
                    " team=", n.step.charged_tags.team, " attr=", Str(n.step.attribution_status),
                    "\n");
  }
  for (const Orphan& o : t.orphans) {
    absl::StrAppend(&out, "orphan ", o.node, " missing=", o.missing_parent_step_id, " ",
                    Str(o.reason), "\n");
  }
  for (const InvalidStep& v : t.invalid) {
    absl::StrAppend(&out, "invalid ", Str(v.reason), " ", v.step.step_id, " ", v.step.event_id, " ",
                    v.detail, "\n");
  }
  for (const RunIssue& is : t.issues) {
    absl::StrAppend(&out, "issue ", Str(is.kind), " ", is.step_id, " [",
                    absl::StrJoin(is.event_ids, ","), "] ", is.detail, "\n");
  }
  for (const OperationSummary& op : t.operations) {
    absl::StrAppend(&out, "op ", op.operation_id, " attempts=", op.attempts,
                    " max=", op.max_attempt, " cost=", op.cost_nano_usd,
                    " retry=", op.retry_cost_nano_usd, "\n");
  }
  return out;
}

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_TESTS_UNIT_RUNS_TEST_UTIL_H_
