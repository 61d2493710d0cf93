// AssembleRun(): one run's steps, in any arrival order, into the tree GetRun shows.
//
// Rules (every one independent of the order of the input vector):
//  - Sibling order (children, roots, orphans): started_at (steps without one last), then
//    step_id, then event_id. event_ids are unique after de-duplication, so this is total.
//  - Same event_id twice: one event (it is the idempotency key). One copy is kept, chosen by a
//    fixed content order, and counted in totals.duplicate_events_ignored.
//  - Same step_id on different events (duplicate_step_id): all are kept and charged, because
//    the ledger charges them. The earliest (started_at, then event_id) OWNS the step_id:
//    children naming it attach to it. The others hang as leaves under their own
//    parent_step_id, marked duplicate_step_id, and one kDuplicateStepId issue names them all.
//  - Self-parenting (parent_step_id == step_id) and cycles (a -> b -> ... -> a) are invalid:
//    listed in `invalid` with the reason and the cycle spelled out, never walked. A step whose
//    parent_run_id is not the run's is invalid too (kWrongRun). Their cost is in the total.
//  - Orphans: a step whose parent_step_id names no valid step is the top of an orphan subtree
//    (reason: parent never seen, or parent invalid). Orphan subtrees are in `nodes` and their
//    cost IS in the run total (the money was spent; the parent may still arrive).
//  - Several distinct root step_ids: all are kept as top-level trees; the first in sibling
//    order is the run root; a kMultipleRoots issue is reported.
//  - The run total is the sum of the steps' own costs: never an aggregate reported by a
//    parent. total = tree + orphans + invalid. Unpriced steps count as 0 and are counted.
//  - Retries: steps sharing a non-empty operation_id are attempts of one operation; each is
//    charged once. retry cost = own cost of attempts with attempt > 1.
//
// Complexity: O(n log n); no recursion, so a deep or hostile chain cannot overflow the stack.
// Thread safety: pure function over values.
#ifndef STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_TREE_H_
#define STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_TREE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/domain/runs/step_record.h"
#include "server/domain/step.h"

namespace stepledger::domain::runs {

struct RunNode {
  StepRecord step;
  int parent = -1;                // Index into RunTree::nodes; -1 for top-level (root or orphan).
  std::vector<int> children;      // Indices into RunTree::nodes, in sibling order.
  int depth = 0;                  // 0 for top-level nodes.
  NanoUsd own_cost_nano_usd = 0;  // 0 when unpriced.
  NanoUsd subtree_cost_nano_usd = 0;        // Own + all descendants.
  NanoUsd subtree_retry_cost_nano_usd = 0;  // Own + descendants' cost of attempts > 1.
  int64_t subtree_steps = 1;
  int64_t subtree_unpriced_steps = 0;
  int32_t attempts = 1;  // Steps in the run sharing this step's operation_id (1 without one).
  bool duplicate_step_id = false;  // Another event owns this step_id (see rules above).
};

enum class OrphanReason { kParentNeverSeen, kParentInvalid };
enum class InvalidReason { kSelfParent, kCycle, kWrongRun };
enum class IssueKind { kDuplicateStepId, kMultipleRoots };
std::string_view ToString(OrphanReason v);
std::string_view ToString(InvalidReason v);
std::string_view ToString(IssueKind v);

struct Orphan {
  int node = -1;  // Top of the orphan subtree, index into RunTree::nodes.
  std::string missing_parent_step_id;
  OrphanReason reason = OrphanReason::kParentNeverSeen;
};

struct InvalidStep {
  StepRecord step;
  InvalidReason reason = InvalidReason::kSelfParent;
  std::string detail;  // e.g. "cycle: a -> b -> a"
};

struct RunIssue {
  IssueKind kind = IssueKind::kDuplicateStepId;
  std::string step_id;                 // The duplicated id; the run root for kMultipleRoots.
  std::vector<std::string> event_ids;  // Owner/run root first.
  std::string detail;
};

struct OperationSummary {
  std::string operation_id;
  int32_t attempts = 0;     // Steps sharing the operation_id.
  int32_t max_attempt = 0;  // Highest attempt number seen (> attempts: some never arrived).
  NanoUsd cost_nano_usd = 0;
  NanoUsd retry_cost_nano_usd = 0;  // Attempts > 1.
};

struct RunTotals {
  NanoUsd total_nano_usd = 0;    // tree + orphan + invalid: every stored step, once.
  NanoUsd tree_nano_usd = 0;     // Under the root(s).
  NanoUsd orphan_nano_usd = 0;   // Under orphan subtrees.
  NanoUsd invalid_nano_usd = 0;  // Self-parented, cyclic or wrong-run steps.
  NanoUsd retry_nano_usd = 0;    // Attempts > 1, wherever they are.
  int64_t steps = 0;             // Nodes + invalid (after dropping duplicate events).
  int64_t unpriced_steps = 0;
  int64_t duplicate_events_ignored = 0;
};

struct RunTree {
  std::string run_id;
  // Pre-order: each root's tree, then each orphan subtree, every list in sibling order.
  std::vector<RunNode> nodes;
  std::vector<int> roots;   // Top-level nodes with empty parent_step_id.
  std::optional<int> root;  // The run root: roots.front() when any.
  std::vector<Orphan> orphans;
  std::vector<InvalidStep> invalid;          // Ordered by (reason, step_id, event_id).
  std::vector<RunIssue> issues;              // Ordered by (kind, step_id).
  std::vector<OperationSummary> operations;  // Non-empty operation_ids, ordered by id.
  RunTotals totals;
};

// `steps` are the stored steps whose parent_run_id is `run_id` (others become invalid,
// kWrongRun).
RunTree AssembleRun(std::string_view run_id, std::vector<StepRecord> steps);

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_TREE_H_
