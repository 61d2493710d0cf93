#include "server/domain/runs/run_tree.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/runs/test_util.h"

namespace stepledger::domain::runs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> StepIds(const RunTree& t, const std::vector<int>& idx) {
  std::vector<std::string> out;
  for (int i : idx) out.push_back(t.nodes[i].step.step_id);
  return out;
}

const RunNode& NodeOf(const RunTree& t, const std::string& step_id) {
  for (const RunNode& n : t.nodes) {
    if (n.step.step_id == step_id && !n.duplicate_step_id) return n;
  }
  ADD_FAILURE() << "no node " << step_id;
  static const RunNode kNone;
  return kNone;
}

TEST(AssembleRunTest, EmptyRunHasNoRootAndZeroTotal) {
  RunTree t = AssembleRun(kRun, {});
  EXPECT_FALSE(t.root.has_value());
  EXPECT_EQ(t.totals.total_nano_usd, 0);
  EXPECT_EQ(t.totals.steps, 0);
}

TEST(AssembleRunTest, NestsByParentWithOwnAndSubtreeCost) {
  RunTree t = AssembleRun(kRun, {Rec("c1", "r", 20, 1), Rec("g", "c1", 5, 2), Rec("r", "", 100, 0),
                                 Rec("c2", "r", 30, 3)});
  ASSERT_TRUE(t.root.has_value());
  const RunNode& root = t.nodes[*t.root];
  EXPECT_EQ(root.step.step_id, "r");
  EXPECT_THAT(StepIds(t, root.children), ElementsAre("c1", "c2"));
  EXPECT_EQ(root.own_cost_nano_usd, 100);
  EXPECT_EQ(root.subtree_cost_nano_usd, 155);
  EXPECT_EQ(root.subtree_steps, 4);
  EXPECT_EQ(NodeOf(t, "c1").subtree_cost_nano_usd, 25);
  EXPECT_EQ(NodeOf(t, "g").depth, 2);
  EXPECT_EQ(t.totals.total_nano_usd, 155);
  EXPECT_EQ(t.totals.tree_nano_usd, 155);
  EXPECT_THAT(t.orphans, IsEmpty());
  EXPECT_THAT(t.invalid, IsEmpty());
}

TEST(AssembleRunTest, ChildrenSortedByStartedAtThenStepIdThenEventId) {
  StepRecord no_time = Rec("a0", "r", 1, 0);
  no_time.started_at.reset();
  RunTree t = AssembleRun(kRun, {Rec("z", "r", 1, 1), no_time, Rec("b", "r", 1, 5),
                                 Rec("a", "r", 1, 5), Rec("y", "r", 1, 2), Rec("r", "", 1, 0)});
  // Steps without started_at go last: unknown time is no reason to come first.
  EXPECT_THAT(StepIds(t, t.nodes[*t.root].children), ElementsAre("z", "y", "a", "b", "a0"));
}

TEST(AssembleRunTest, TotalIsSumOfStepsNeverAParentsReportedAggregate) {
  // The parent's own cost is what it spent itself; children are added once, by the tree.
  RunTree t = AssembleRun(kRun, {Rec("r", "", 10), Rec("c", "r", 7)});
  EXPECT_EQ(t.totals.total_nano_usd, 17);
}

TEST(AssembleRunTest, OrphanSubtreeListedApartAndCountedInTotal) {
  RunTree t =
      AssembleRun(kRun, {Rec("r", "", 100), Rec("o", "missing", 40, 1), Rec("oc", "o", 2, 2)});
  ASSERT_EQ(t.orphans.size(), 1u);
  const Orphan& o = t.orphans[0];
  EXPECT_EQ(t.nodes[o.node].step.step_id, "o");
  EXPECT_EQ(o.missing_parent_step_id, "missing");
  EXPECT_EQ(o.reason, OrphanReason::kParentNeverSeen);
  EXPECT_THAT(StepIds(t, t.nodes[o.node].children), ElementsAre("oc"));
  EXPECT_EQ(t.totals.orphan_nano_usd, 42);
  EXPECT_EQ(t.totals.tree_nano_usd, 100);
  EXPECT_EQ(t.totals.total_nano_usd, 142);
}

TEST(AssembleRunTest, RunWithoutRootIsAllOrphans) {
  RunTree t = AssembleRun(kRun, {Rec("a", "r", 1), Rec("b", "r", 2, 1)});
  EXPECT_FALSE(t.root.has_value());
  EXPECT_EQ(t.orphans.size(), 2u);
  EXPECT_EQ(t.totals.total_nano_usd, 3);
}

TEST(AssembleRunTest, SelfParentingIsInvalidWithReasonAndItsChildrenAreOrphans) {
  RunTree t = AssembleRun(kRun, {Rec("r", "", 1), Rec("s", "s", 10, 1), Rec("k", "s", 3, 2)});
  ASSERT_EQ(t.invalid.size(), 1u);
  EXPECT_EQ(t.invalid[0].reason, InvalidReason::kSelfParent);
  EXPECT_EQ(t.invalid[0].step.step_id, "s");
  EXPECT_THAT(t.invalid[0].detail, HasSubstr("names itself as its parent"));
  ASSERT_EQ(t.orphans.size(), 1u);
  EXPECT_EQ(t.orphans[0].reason, OrphanReason::kParentInvalid);
  EXPECT_EQ(t.totals.invalid_nano_usd, 10);
  EXPECT_EQ(t.totals.total_nano_usd, 14);
}

TEST(AssembleRunTest, CycleIsInvalidWithTheCycleSpelledOut) {
  RunTree t =
      AssembleRun(kRun, {Rec("r", "", 1), Rec("c", "b", 1, 3), Rec("a", "c", 1, 1),
                         Rec("b", "a", 1, 2), Rec("tail", "b", 5, 4), Rec("ok", "r", 1, 5)});
  ASSERT_EQ(t.invalid.size(), 3u);
  for (const InvalidStep& v : t.invalid) {
    EXPECT_EQ(v.reason, InvalidReason::kCycle);
    // a's parent is c, c's is b, b's is a; rotated to start at the smallest id.
    EXPECT_EQ(v.detail, "cycle through parent_step_id: a -> c -> b -> a");
  }
  ASSERT_EQ(t.orphans.size(), 1u);  // Hangs off a cycle: placed, never walked into the loop.
  EXPECT_EQ(t.nodes[t.orphans[0].node].step.step_id, "tail");
  EXPECT_EQ(t.orphans[0].reason, OrphanReason::kParentInvalid);
  EXPECT_THAT(StepIds(t, t.nodes[*t.root].children), ElementsAre("ok"));
  EXPECT_EQ(t.totals.total_nano_usd, 10);
}

TEST(AssembleRunTest, TwoStepCycleWithoutAnyRoot) {
  RunTree t = AssembleRun(kRun, {Rec("x", "y", 1), Rec("y", "x", 1)});
  EXPECT_EQ(t.invalid.size(), 2u);
  EXPECT_THAT(t.nodes, IsEmpty());
  EXPECT_EQ(t.totals.total_nano_usd, 2);
}

TEST(AssembleRunTest, DuplicateStepIdEarliestOwnsOthersKeptAsChargedLeaves) {
  RunTree t =
      AssembleRun(kRun, {Rec("r", "", 1), Rec("p", "r", 1, 1), Rec("d", "p", 20, 9, "e-late"),
                         Rec("d", "r", 10, 2, "e-early"), Rec("k", "d", 4, 10)});
  ASSERT_EQ(t.issues.size(), 1u);
  const RunIssue& issue = t.issues[0];
  EXPECT_EQ(issue.kind, IssueKind::kDuplicateStepId);
  EXPECT_EQ(issue.step_id, "d");
  EXPECT_THAT(issue.event_ids, ElementsAre("e-early", "e-late"));
  // Children of "d" attach to the owner (earliest), the later event is a flagged leaf.
  const RunNode& owner = NodeOf(t, "d");
  EXPECT_EQ(owner.step.event_id, "e-early");
  EXPECT_THAT(StepIds(t, owner.children), ElementsAre("k"));
  const RunNode& p = NodeOf(t, "p");
  ASSERT_EQ(p.children.size(), 1u);
  const RunNode& dup = t.nodes[p.children[0]];
  EXPECT_TRUE(dup.duplicate_step_id);
  EXPECT_EQ(dup.step.event_id, "e-late");
  EXPECT_THAT(dup.children, IsEmpty());
  EXPECT_EQ(t.totals.total_nano_usd, 36);  // Both events are in the ledger: both count.
}

TEST(AssembleRunTest, SameEventIdTwiceIsOneEvent) {
  RunTree t = AssembleRun(kRun, {Rec("r", "", 5), Rec("c", "r", 3), Rec("c", "r", 3)});
  EXPECT_EQ(t.totals.duplicate_events_ignored, 1);
  EXPECT_EQ(t.totals.total_nano_usd, 8);
  EXPECT_THAT(t.issues, IsEmpty());
}

TEST(AssembleRunTest, MultipleRootsReportedAndEarliestIsRunRoot) {
  RunTree t = AssembleRun(kRun, {Rec("r2", "", 5, 3), Rec("r1", "", 5, 1)});
  ASSERT_TRUE(t.root.has_value());
  EXPECT_EQ(t.nodes[*t.root].step.step_id, "r1");
  EXPECT_EQ(t.roots.size(), 2u);
  ASSERT_EQ(t.issues.size(), 1u);
  EXPECT_EQ(t.issues[0].kind, IssueKind::kMultipleRoots);
  EXPECT_EQ(t.totals.tree_nano_usd, 10);
}

TEST(AssembleRunTest, RetriesCountAttemptsAndRetryCost) {
  StepRecord a1 = Rec("a1", "r", 10, 1);
  StepRecord a2 = Rec("a2", "r", 12, 2);
  StepRecord a3 = Rec("a3", "r", 14, 3);
  for (StepRecord* a : {&a1, &a2, &a3}) a->operation_id = "op-1";
  a2.attempt = 2;
  a3.attempt = 3;
  RunTree t = AssembleRun(kRun, {Rec("r", "", 100), a3, a1, a2});
  for (const char* id : {"a1", "a2", "a3"}) EXPECT_EQ(NodeOf(t, id).attempts, 3) << id;
  EXPECT_EQ(NodeOf(t, "r").attempts, 1);
  EXPECT_EQ(t.nodes[*t.root].subtree_retry_cost_nano_usd, 26);
  ASSERT_EQ(t.operations.size(), 1u);
  EXPECT_EQ(t.operations[0].attempts, 3);
  EXPECT_EQ(t.operations[0].max_attempt, 3);
  EXPECT_EQ(t.operations[0].cost_nano_usd, 36);
  EXPECT_EQ(t.operations[0].retry_cost_nano_usd, 26);
  EXPECT_EQ(t.totals.retry_nano_usd, 26);
  EXPECT_EQ(t.totals.total_nano_usd, 136);  // Every attempt charged once.
}

TEST(AssembleRunTest, UnpricedStepsCountAsZeroAndAreCounted) {
  RunTree t = AssembleRun(kRun, {Rec("r", "", 10), Rec("c", "r", std::nullopt)});
  EXPECT_EQ(t.totals.total_nano_usd, 10);
  EXPECT_EQ(t.totals.unpriced_steps, 1);
  EXPECT_EQ(t.nodes[*t.root].subtree_unpriced_steps, 1);
}

TEST(AssembleRunTest, StepOfAnotherRunIsInvalid) {
  StepRecord stray = Rec("x", "r", 9);
  stray.own_tags.parent_run_id = "run-2";
  RunTree t = AssembleRun(kRun, {Rec("r", "", 1), stray});
  ASSERT_EQ(t.invalid.size(), 1u);
  EXPECT_EQ(t.invalid[0].reason, InvalidReason::kWrongRun);
  EXPECT_THAT(t.invalid[0].detail, HasSubstr("run-2"));
}

TEST(AssembleRunTest, VeryDeepChainNeedsNoRecursion) {
  constexpr int kDepth = 100'000;
  std::vector<StepRecord> steps;
  steps.push_back(Rec("s0", "", 1));
  for (int i = 1; i < kDepth; ++i) {
    steps.push_back(Rec(absl::StrCat("s", i), absl::StrCat("s", i - 1), 1, i));
  }
  RunTree t = AssembleRun(kRun, std::move(steps));
  EXPECT_EQ(t.nodes.back().depth, kDepth - 1);
  EXPECT_EQ(t.nodes[*t.root].subtree_cost_nano_usd, kDepth);
}

}  // namespace
}  // namespace stepledger::domain::runs
