#include "server/domain/runs/run_tree.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stepledger::domain::runs {
namespace {

// Sibling order; also picks the owner among events sharing a step_id (same step_id reduces
// it to started_at, then event_id).
bool SiblingLess(const StepRecord& a, const StepRecord& b) {
  if (a.started_at.has_value() != b.started_at.has_value()) return a.started_at.has_value();
  if (a.started_at.has_value() && *a.started_at != *b.started_at) {
    return *a.started_at < *b.started_at;
  }
  if (a.step_id != b.step_id) return a.step_id < b.step_id;
  return a.event_id < b.event_id;
}

// Orders copies of one event_id so that which copy survives never depends on arrival order.
bool ContentLess(const StepRecord& a, const StepRecord& b) {
  return std::tie(a.event_id, a.step_id, a.parent_step_id, a.started_at, a.cost_nano_usd,
                  a.operation_id, a.attempt, a.own_tags.parent_run_id, a.name, a.status) <
         std::tie(b.event_id, b.step_id, b.parent_step_id, b.started_at, b.cost_nano_usd,
                  b.operation_id, b.attempt, b.own_tags.parent_run_id, b.name, b.status);
}

NanoUsd CostOf(const StepRecord& r) { return r.cost_nano_usd.value_or(0); }

// The cycle's step ids in parent order, rotated to start at the smallest id so the text is
// the same whichever member the walk entered by.
std::string DescribeCycle(const std::vector<std::string>& ids) {
  auto min_it = std::min_element(ids.begin(), ids.end());
  std::vector<std::string> rotated(min_it, ids.end());
  rotated.insert(rotated.end(), ids.begin(), min_it);
  rotated.push_back(rotated.front());
  return absl::StrCat("cycle through parent_step_id: ", absl::StrJoin(rotated, " -> "));
}

}  // namespace

std::string_view ToString(OrphanReason v) {
  switch (v) {
    case OrphanReason::kParentNeverSeen:
      return "parent_never_seen";
    case OrphanReason::kParentInvalid:
      return "parent_invalid";
  }
  return "";
}

std::string_view ToString(InvalidReason v) {
  switch (v) {
    case InvalidReason::kSelfParent:
      return "self_parent";
    case InvalidReason::kCycle:
      return "cycle";
    case InvalidReason::kWrongRun:
      return "wrong_run";
  }
  return "";
}

std::string_view ToString(IssueKind v) {
  switch (v) {
    case IssueKind::kDuplicateStepId:
      return "duplicate_step_id";
    case IssueKind::kMultipleRoots:
      return "multiple_roots";
  }
  return "";
}

RunTree AssembleRun(std::string_view run_id, std::vector<StepRecord> steps) {
  RunTree tree;
  tree.run_id = std::string(run_id);

  // 1. One record per event_id. Records stay where they are and are moved exactly once, into
  //    a node or the invalid list; sorting works on indices, since a record is large.
  std::vector<int> by_content(steps.size());
  std::iota(by_content.begin(), by_content.end(), 0);
  std::sort(by_content.begin(), by_content.end(),
            [&steps](int a, int b) { return ContentLess(steps[a], steps[b]); });
  std::vector<bool> ignored(steps.size(), false);
  for (size_t k = 1; k < by_content.size(); ++k) {
    if (steps[by_content[k]].event_id == steps[by_content[k - 1]].event_id) {
      ignored[by_content[k]] = true;
      ++tree.totals.duplicate_events_ignored;
    }
  }

  // 2. Steps that cannot be placed whatever else arrives.
  std::vector<int> order;  // Placeable records, as indices into `steps`.
  order.reserve(steps.size());
  absl::flat_hash_set<std::string> invalid_ids;
  for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
    if (ignored[i]) continue;
    StepRecord& r = steps[i];
    if (r.own_tags.parent_run_id != run_id) {
      std::string detail = absl::StrCat("step '", r.step_id, "' belongs to run '",
                                        r.own_tags.parent_run_id, "', not '", tree.run_id, "'");
      invalid_ids.insert(r.step_id);
      tree.invalid.push_back({std::move(r), InvalidReason::kWrongRun, std::move(detail)});
    } else if (!r.step_id.empty() && r.parent_step_id == r.step_id) {
      std::string detail = absl::StrCat("step '", r.step_id, "' names itself as its parent");
      invalid_ids.insert(r.step_id);
      tree.invalid.push_back({std::move(r), InvalidReason::kSelfParent, std::move(detail)});
    } else {
      order.push_back(i);
    }
  }

  // 3. In sibling order, so every list built by ascending position below is already sorted and
  //    the first event seen for a step_id is its owner.
  std::sort(order.begin(), order.end(),
            [&steps](int a, int b) { return SiblingLess(steps[a], steps[b]); });
  auto cand = [&steps, &order](int i) -> StepRecord& { return steps[order[i]]; };
  const int n = static_cast<int>(order.size());
  absl::flat_hash_map<std::string, int> owner;
  // step_id -> event_ids, owner first. Ordered, so issues come out sorted by step_id.
  std::map<std::string, std::vector<std::string>> dup_groups;
  std::vector<bool> is_dup(n, false);
  for (int i = 0; i < n; ++i) {
    if (cand(i).step_id.empty()) continue;  // Nothing can name it as a parent.
    auto [it, inserted] = owner.try_emplace(cand(i).step_id, i);
    if (!inserted) {
      is_dup[i] = true;
      std::vector<std::string>& group = dup_groups[cand(i).step_id];
      if (group.empty()) group.push_back(cand(it->second).event_id);
      group.push_back(cand(i).event_id);
    }
  }
  std::vector<int> parent(n, -1);
  for (int i = 0; i < n; ++i) {
    if (cand(i).parent_step_id.empty()) continue;
    if (auto it = owner.find(cand(i).parent_step_id); it != owner.end()) parent[i] = it->second;
  }

  // 4. Cycles: parent pointers form a functional graph; walk each chain once, iteratively.
  std::vector<uint8_t> state(n, 0);  // 0 unvisited, 1 on the current walk, 2 done.
  std::vector<bool> in_cycle(n, false);
  std::vector<std::pair<int, std::string>> cycle_members;  // (index, detail)
  std::vector<int> path;
  for (int i = 0; i < n; ++i) {
    if (state[i] != 0) continue;
    path.clear();
    int j = i;
    while (j != -1 && state[j] == 0) {
      state[j] = 1;
      path.push_back(j);
      j = parent[j];
    }
    if (j != -1 && state[j] == 1) {
      auto start = std::find(path.begin(), path.end(), j);
      std::vector<std::string> ids;
      for (auto it = start; it != path.end(); ++it) ids.push_back(cand(*it).step_id);
      std::string detail = DescribeCycle(ids);
      for (auto it = start; it != path.end(); ++it) {
        in_cycle[*it] = true;
        invalid_ids.insert(cand(*it).step_id);
        cycle_members.emplace_back(*it, detail);
      }
    }
    for (int p : path) state[p] = 2;
  }

  // 5. Place every valid step: under its parent, as a root, or as the top of an orphan subtree.
  std::vector<std::vector<int>> kids(n);
  std::vector<int> root_tops;
  std::vector<std::pair<int, OrphanReason>> orphan_tops;
  for (int i = 0; i < n; ++i) {
    if (in_cycle[i]) continue;
    if (cand(i).parent_step_id.empty()) {
      root_tops.push_back(i);
    } else if (parent[i] != -1 && !in_cycle[parent[i]]) {
      kids[parent[i]].push_back(i);
    } else {
      const bool parent_invalid = parent[i] != -1 || invalid_ids.contains(cand(i).parent_step_id);
      orphan_tops.emplace_back(
          i, parent_invalid ? OrphanReason::kParentInvalid : OrphanReason::kParentNeverSeen);
    }
  }

  // 6. Emit in pre-order with an explicit stack (no recursion on untrusted depth).
  tree.nodes.reserve(n);
  struct Frame {
    int cand;
    int parent_node;
    int depth;
  };
  std::vector<Frame> stack;
  auto emit = [&](int top) {
    const int top_node = static_cast<int>(tree.nodes.size());
    stack.push_back({top, -1, 0});
    while (!stack.empty()) {
      Frame f = stack.back();
      stack.pop_back();
      const int idx = static_cast<int>(tree.nodes.size());
      RunNode node;
      node.step = std::move(cand(f.cand));
      node.parent = f.parent_node;
      node.depth = f.depth;
      node.duplicate_step_id = is_dup[f.cand];
      node.own_cost_nano_usd = CostOf(node.step);
      node.subtree_cost_nano_usd = node.own_cost_nano_usd;
      node.subtree_retry_cost_nano_usd = node.step.attempt > 1 ? node.own_cost_nano_usd : 0;
      node.subtree_unpriced_steps = node.step.cost_nano_usd.has_value() ? 0 : 1;
      tree.nodes.push_back(std::move(node));
      if (f.parent_node >= 0) tree.nodes[f.parent_node].children.push_back(idx);
      for (auto it = kids[f.cand].rbegin(); it != kids[f.cand].rend(); ++it) {
        stack.push_back({*it, idx, f.depth + 1});
      }
    }
    return top_node;
  };
  for (int top : root_tops) tree.roots.push_back(emit(top));
  for (const auto& [top, reason] : orphan_tops) {
    std::string missing = cand(top).parent_step_id;  // Read before emit() moves it.
    tree.orphans.push_back({emit(top), std::move(missing), reason});
  }
  if (!tree.roots.empty()) tree.root = tree.roots.front();

  // 7. Subtree sums: in pre-order every descendant follows its ancestor, so one reverse pass.
  for (int k = static_cast<int>(tree.nodes.size()) - 1; k >= 0; --k) {
    const RunNode& c = tree.nodes[k];
    if (c.parent < 0) continue;
    RunNode& p = tree.nodes[c.parent];
    p.subtree_cost_nano_usd += c.subtree_cost_nano_usd;
    p.subtree_retry_cost_nano_usd += c.subtree_retry_cost_nano_usd;
    p.subtree_steps += c.subtree_steps;
    p.subtree_unpriced_steps += c.subtree_unpriced_steps;
  }

  // 8. Cycle members join the invalid list; fixed order for the output.
  for (auto& [i, detail] : cycle_members) {
    tree.invalid.push_back({std::move(cand(i)), InvalidReason::kCycle, std::move(detail)});
  }
  std::sort(tree.invalid.begin(), tree.invalid.end(),
            [](const InvalidStep& a, const InvalidStep& b) {
              return std::tie(a.reason, a.step.step_id, a.step.event_id) <
                     std::tie(b.reason, b.step.step_id, b.step.event_id);
            });

  // 9. Operations (attempts and retry cost) over every kept step, placed or not.
  std::map<std::string, OperationSummary> ops;
  auto count_op = [&](const StepRecord& r) {
    if (r.operation_id.empty()) return;
    OperationSummary& op = ops[r.operation_id];
    op.operation_id = r.operation_id;
    ++op.attempts;
    op.max_attempt = std::max(op.max_attempt, r.attempt);
    op.cost_nano_usd += CostOf(r);
    if (r.attempt > 1) op.retry_cost_nano_usd += CostOf(r);
  };
  for (const RunNode& node : tree.nodes) count_op(node.step);
  for (const InvalidStep& inv : tree.invalid) count_op(inv.step);
  for (RunNode& node : tree.nodes) {
    if (!node.step.operation_id.empty()) node.attempts = ops[node.step.operation_id].attempts;
  }
  for (auto& [id, op] : ops) tree.operations.push_back(std::move(op));

  // 10. Issues, in (kind, step_id) order.
  for (auto& [step_id, event_ids] : dup_groups) {
    std::string detail = absl::StrCat(
        event_ids.size(), " events share step_id '", step_id, "'; '", event_ids.front(),
        "' (earliest) owns it, the others are kept and charged as leaves under their parent");
    tree.issues.push_back(
        {IssueKind::kDuplicateStepId, step_id, std::move(event_ids), std::move(detail)});
  }
  {
    std::vector<std::string> root_ids;
    std::vector<std::string> root_events;
    for (int r : tree.roots) {
      if (tree.nodes[r].duplicate_step_id) continue;  // Already a duplicate_step_id issue.
      root_ids.push_back(tree.nodes[r].step.step_id);
      root_events.push_back(tree.nodes[r].step.event_id);
    }
    if (root_ids.size() > 1) {
      std::string detail = absl::StrCat(
          root_ids.size(), " steps have no parent_step_id (", absl::StrJoin(root_ids, ", "), "); '",
          root_ids.front(), "' (earliest) is the run root, the others are kept as top-level trees");
      tree.issues.push_back(
          {IssueKind::kMultipleRoots, root_ids.front(), std::move(root_events), std::move(detail)});
    }
  }

  // 11. Totals from the steps' own costs only.
  RunTotals& t = tree.totals;
  for (int r : tree.roots) t.tree_nano_usd += tree.nodes[r].subtree_cost_nano_usd;
  for (const Orphan& o : tree.orphans) {
    t.orphan_nano_usd += tree.nodes[o.node].subtree_cost_nano_usd;
  }
  auto add_step = [&t](const StepRecord& r) {
    if (!r.cost_nano_usd.has_value()) ++t.unpriced_steps;
    if (r.attempt > 1) t.retry_nano_usd += CostOf(r);
  };
  for (const RunNode& node : tree.nodes) add_step(node.step);
  for (const InvalidStep& inv : tree.invalid) {
    add_step(inv.step);
    t.invalid_nano_usd += CostOf(inv.step);
  }
  t.total_nano_usd = t.tree_nano_usd + t.orphan_nano_usd + t.invalid_nano_usd;
  t.steps = static_cast<int64_t>(tree.nodes.size() + tree.invalid.size());
  return tree;
}

}  // namespace stepledger::domain::runs
