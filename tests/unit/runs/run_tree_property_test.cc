// Property: the assembled tree and its totals never depend on arrival order, over generated
// runs (depth up to 5, fan-out up to 8, 5% retries, tool steps inheriting from the root), both
// clean and damaged (lost parents, duplicate step ids, re-sent events, self-parents, cycles).
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/domain/runs/run_tree.h"
#include "tests/fakes/run_generator.h"
#include "tests/unit/runs/test_util.h"

namespace stepledger::domain::runs {
namespace {

using ::stepledger::testing::GeneratedRun;
using ::stepledger::testing::RunGenerator;

constexpr int kRuns = 300;
constexpr int kPermutations = 8;

std::vector<StepRecord> RecordsOf(const GeneratedRun& run) {
  return ToRecords(run.steps, run.root_tags);
}

// Breaks a run the ways real traffic does. `rng` decides; the result is fixed per seed.
std::vector<StepRecord> Damage(std::vector<StepRecord> recs, RunGenerator& rng) {
  const std::string run_id = recs[0].own_tags.parent_run_id;
  auto pick = [&] { return 1 + rng.Uniform(recs.size() - 1); };  // Never the root.
  if (recs.size() > 3) {
    for (int i = 0; i < 2; ++i) recs.erase(recs.begin() + pick());  // Lost parents -> orphans.
  }
  if (recs.size() > 1) {
    recs[pick()].started_at.reset();
    recs[pick()].cost_nano_usd.reset();
    StepRecord dup = recs[pick()];  // Same step_id, another event, elsewhere, later.
    dup.event_id += "-dup";
    dup.parent_step_id = recs[rng.Uniform(recs.size())].step_id;
    if (dup.parent_step_id == dup.step_id) dup.parent_step_id = recs[0].step_id;
    if (dup.started_at.has_value()) *dup.started_at += absl::Seconds(1 + rng.Uniform(3));
    recs.push_back(dup);
    recs.push_back(recs[pick()]);  // A re-sent event: same id, same content.
  }
  StepRecord self = Rec("self", "self", 7);
  StepRecord c1 = Rec("cy1", "cy3", 11), c2 = Rec("cy2", "cy1", 13), c3 = Rec("cy3", "cy2", 17);
  StepRecord hang = Rec("hang", "cy2", 19);
  for (StepRecord* r : {&self, &c1, &c2, &c3, &hang}) {
    r->own_tags.parent_run_id = run_id;
    recs.push_back(*r);
  }
  return recs;
}

NanoUsd SumOfDistinctEvents(const std::vector<StepRecord>& recs) {
  absl::flat_hash_map<std::string, NanoUsd> by_event;
  for (const StepRecord& r : recs) by_event[r.event_id] = r.cost_nano_usd.value_or(0);
  NanoUsd sum = 0;
  for (const auto& [id, cost] : by_event) sum += cost;
  return sum;
}

void ExpectOrderIndependent(const std::string& run_id, const std::vector<StepRecord>& recs,
                            RunGenerator& rng, std::string* canonical) {
  *canonical = CanonicalText(AssembleRun(run_id, recs));
  for (int p = 0; p < kPermutations; ++p) {
    std::vector<StepRecord> shuffled = recs;
    rng.Shuffle(shuffled);
    ASSERT_EQ(CanonicalText(AssembleRun(run_id, std::move(shuffled))), *canonical)
        << "permutation " << p << " of " << run_id;
  }
}

TEST(RunTreePropertyTest, TreeAndTotalsNeverDependOnArrivalOrder) {
  RunGenerator gen(20260101), rng(99);
  for (int i = 0; i < kRuns; ++i) {
    GeneratedRun run = gen.Next();
    std::string canonical;
    ExpectOrderIndependent(run.run_id, RecordsOf(run), rng, &canonical);
    if (HasFatalFailure()) return;
  }
}

TEST(RunTreePropertyTest, CleanRunAssemblesToTheGeneratedTree) {
  RunGenerator gen(31337), rng(5);
  for (int i = 0; i < kRuns; ++i) {
    GeneratedRun run = gen.Next();
    std::vector<StepRecord> recs = RecordsOf(run);
    rng.Shuffle(recs);
    RunTree t = AssembleRun(run.run_id, std::move(recs));
    SCOPED_TRACE(run.run_id);
    EXPECT_EQ(t.totals.total_nano_usd, run.total_cost_nano_usd);
    EXPECT_EQ(t.totals.tree_nano_usd, run.total_cost_nano_usd);
    EXPECT_EQ(t.totals.retry_nano_usd, run.retry_cost_nano_usd);
    EXPECT_EQ(t.nodes.size(), run.steps.size());
    EXPECT_TRUE(t.orphans.empty());
    EXPECT_TRUE(t.invalid.empty());
    EXPECT_TRUE(t.issues.empty());
    ASSERT_TRUE(t.root.has_value());
    EXPECT_EQ(t.nodes[*t.root].step.step_id, run.steps[0].step_id);
    for (const RunNode& n : t.nodes) {
      NanoUsd sum = n.own_cost_nano_usd;
      for (int c : n.children) {
        EXPECT_EQ(t.nodes[c].step.parent_step_id, n.step.step_id);
        EXPECT_EQ(t.nodes[c].depth, n.depth + 1);
        sum += t.nodes[c].subtree_cost_nano_usd;
      }
      EXPECT_EQ(n.subtree_cost_nano_usd, sum);
      // Whoever emitted the step, the run's calling feature pays.
      EXPECT_EQ(n.step.charged_tags.team, run.root_tags.team);
      if (n.step.kind == StepKind::kToolCall) {
        EXPECT_EQ(n.step.attribution_status, AttributionStatus::kInherited);
        EXPECT_NE(n.step.tool_owner_team, n.step.charged_tags.team);
      }
    }
  }
}

TEST(RunTreePropertyTest, DamagedRunsStayOrderIndependentAndChargeEveryEventOnce) {
  RunGenerator gen(777), rng(2024);
  int runs_with_orphans = 0;
  for (int i = 0; i < kRuns; ++i) {
    GeneratedRun run = gen.Next();
    std::vector<StepRecord> recs = Damage(RecordsOf(run), rng);
    std::string canonical;
    ExpectOrderIndependent(run.run_id, recs, rng, &canonical);
    if (HasFatalFailure()) return;
    RunTree t = AssembleRun(run.run_id, recs);
    EXPECT_EQ(t.totals.total_nano_usd, SumOfDistinctEvents(recs)) << canonical;
    EXPECT_EQ(t.totals.duplicate_events_ignored, 1);
    ASSERT_GE(t.invalid.size(), 4u) << canonical;  // self + the 3-cycle.
    EXPECT_GE(t.orphans.size(), 1u) << canonical;  // At least "hang".
    if (t.orphans.size() > 1) ++runs_with_orphans;
  }
  EXPECT_GT(runs_with_orphans, kRuns / 4);  // Dropping parents did create orphans.
}

}  // namespace
}  // namespace stepledger::domain::runs
