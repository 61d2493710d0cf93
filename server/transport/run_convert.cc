#include "server/transport/run_convert.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {
namespace {

using domain::runs::RunNode;
using domain::runs::RunTree;
using domain::runs::StepRecord;

void TimeToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const timespec ts = absl::ToTimespec(t);
  out->set_seconds(ts.tv_sec);
  out->set_nanos(static_cast<int32_t>(ts.tv_nsec));
}

void UsageToProto(const domain::Usage& u, v1::Usage* out) {
  if (u.input_uncached_tokens) out->set_input_uncached_tokens(*u.input_uncached_tokens);
  if (u.cache_read_tokens) out->set_cache_read_tokens(*u.cache_read_tokens);
  if (u.cache_write_tokens) out->set_cache_write_tokens(*u.cache_write_tokens);
  if (u.output_tokens) out->set_output_tokens(*u.output_tokens);
  if (u.reasoning_tokens) out->set_reasoning_tokens(*u.reasoning_tokens);
}

// The step's own fields (no subtree figures, no children).
void StepToProto(const StepRecord& s, v1::RunNode* out) {
  out->set_event_id(s.event_id);
  out->set_step_id(s.step_id);
  out->set_parent_step_id(s.parent_step_id);
  out->set_kind(ToProto(s.kind));
  out->set_name(s.name);
  out->set_provider(s.provider);
  out->set_model(s.model);
  UsageToProto(s.usage, out->mutable_usage());
  if (s.cost_nano_usd.has_value()) out->set_own_cost_nano_usd(*s.cost_nano_usd);
  out->set_attempt(s.attempt);
  out->set_operation_id(s.operation_id);
  out->set_status(s.status);
  out->set_tool_name(s.tool_name);
  out->set_tool_owner_team(s.tool_owner_team);
  out->set_attribution_status(std::string(domain::ToString(s.attribution_status)));
  out->set_tag_drift(s.tag_drift);
  ToProto(s.own_tags, out->mutable_tags());
  ToProto(s.charged_tags, out->mutable_charged_tags());
  if (s.started_at.has_value()) TimeToProto(*s.started_at, out->mutable_started_at());
}

// Steps of the run sharing the step's operation_id, placed or not (1 without one).
int32_t AttemptsOf(const RunTree& tree, const StepRecord& s) {
  if (s.operation_id.empty()) return 1;
  auto it = std::lower_bound(tree.operations.begin(), tree.operations.end(), s.operation_id,
                             [](const domain::runs::OperationSummary& op, const std::string& id) {
                               return op.operation_id < id;
                             });
  return it != tree.operations.end() && it->operation_id == s.operation_id ? it->attempts : 1;
}

// Converts the subtree under tree.nodes[top]. Explicit stack: no recursion on stored data.
// Returns whether some children were cut off at kMaxRunNestingDepth.
bool SubtreeToProto(const RunTree& tree, int top, v1::RunNode* out) {
  bool cut = false;
  struct Frame {
    int node;
    v1::RunNode* msg;
    int depth;  // Relative to the top of this (root or orphan) subtree.
  };
  std::vector<Frame> stack{{top, out, 0}};
  while (!stack.empty()) {
    const Frame f = stack.back();
    stack.pop_back();
    const RunNode& n = tree.nodes[f.node];
    StepToProto(n.step, f.msg);
    f.msg->set_subtree_cost_nano_usd(n.subtree_cost_nano_usd);
    f.msg->set_subtree_retry_cost_nano_usd(n.subtree_retry_cost_nano_usd);
    f.msg->set_subtree_steps(n.subtree_steps);
    f.msg->set_subtree_unpriced_steps(n.subtree_unpriced_steps);
    f.msg->set_attempts(n.attempts);
    f.msg->set_duplicate_step_id(n.duplicate_step_id);
    if (n.children.empty()) continue;
    if (f.depth >= kMaxRunNestingDepth) {
      f.msg->set_children_omitted(true);
      cut = true;
      continue;
    }
    // Add every child first (in sibling order), then descend: the repeated field must not grow
    // while pointers into it are on the stack.
    for (size_t i = 0; i < n.children.size(); ++i) f.msg->add_children();
    for (size_t i = 0; i < n.children.size(); ++i) {
      stack.push_back({n.children[i], f.msg->mutable_children(static_cast<int>(i)), f.depth + 1});
    }
  }
  return cut;
}

}  // namespace

void ToProto(const domain::runs::RunView& view, v1::Run* out) {
  out->Clear();
  const RunTree& tree = view.tree;
  const domain::runs::RunTotals& t = tree.totals;
  out->set_run_id(tree.run_id);
  if (tree.root.has_value()) {
    const StepRecord& root = tree.nodes[*tree.root].step;
    ToProto(root.charged_tags, out->mutable_charged_tags());
    out->set_root_step_id(root.step_id);
  }
  out->set_total_cost_nano_usd(t.total_nano_usd);
  out->set_retry_cost_nano_usd(t.retry_nano_usd);
  out->set_orphan_cost_nano_usd(t.orphan_nano_usd);
  out->set_invalid_cost_nano_usd(t.invalid_nano_usd);
  out->set_step_count(t.steps);
  out->set_unpriced_steps(t.unpriced_steps);
  out->set_pending_steps(view.pending_steps);
  out->set_drift_steps(view.drift_steps);
  out->set_retry_steps(view.retry_steps);
  if (view.first_started_at.has_value()) {
    TimeToProto(*view.first_started_at, out->mutable_first_seen());
  }
  if (view.last_started_at.has_value()) {
    TimeToProto(*view.last_started_at, out->mutable_last_seen());
  }

  bool cut = false;
  for (int r : tree.roots) cut |= SubtreeToProto(tree, r, out->add_roots());
  for (const domain::runs::Orphan& o : tree.orphans) {
    v1::RunNode* node = out->add_orphans();
    cut |= SubtreeToProto(tree, o.node, node);
    node->set_orphan_reason(std::string(domain::runs::ToString(o.reason)));
  }
  for (const domain::runs::InvalidStep& inv : tree.invalid) {
    v1::InvalidStep* msg = out->add_invalid();
    StepToProto(inv.step, msg->mutable_step());
    msg->mutable_step()->set_subtree_cost_nano_usd(inv.step.cost_nano_usd.value_or(0));
    msg->mutable_step()->set_subtree_retry_cost_nano_usd(
        inv.step.attempt > 1 ? inv.step.cost_nano_usd.value_or(0) : 0);
    msg->mutable_step()->set_subtree_steps(1);
    msg->mutable_step()->set_subtree_unpriced_steps(inv.step.cost_nano_usd.has_value() ? 0 : 1);
    msg->mutable_step()->set_attempts(AttemptsOf(tree, inv.step));
    msg->set_reason(std::string(domain::runs::ToString(inv.reason)));
    msg->set_detail(inv.detail);
  }
  for (const domain::runs::RunIssue& issue : tree.issues) {
    out->add_issues(
        absl::StrCat(std::string(domain::runs::ToString(issue.kind)), ": ", issue.detail));
  }
  if (cut) {
    out->add_issues(absl::StrCat("depth_limit: the tree is nested deeper than ",
                                 kMaxRunNestingDepth,
                                 " levels; children below that are not shown (children_omitted) "
                                 "but their cost is in every subtree and run total"));
  }
}

}  // namespace stepledger::transport
