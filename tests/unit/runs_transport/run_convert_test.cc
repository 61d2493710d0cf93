// run_convert: RunView -> v1::Run, nested.
#include "server/transport/run_convert.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/runs_transport/run_test_util.h"

namespace stepledger::transport {
namespace {

using domain::runs::AssembleRun;
using domain::runs::MakeRunView;
using domain::runs::StepRecord;
using testing::kMicroUsd;
using testing::kTestRun;
using testing::Stored;

v1::Run Convert(std::vector<StepRecord> steps) {
  v1::Run run;
  ToProto(MakeRunView(AssembleRun(kTestRun, std::move(steps))), &run);
  return run;
}

TEST(RunConvertTest, NestsTheTreeWithOwnAndSubtreeCostsAndListsOrphansAndInvalidApart) {
  const v1::Run run = Convert(testing::MixedRun());
  EXPECT_EQ(run.run_id(), kTestRun);
  EXPECT_EQ(run.root_step_id(), "r");
  EXPECT_EQ(run.charged_tags().team(), "mail");
  EXPECT_EQ(run.charged_tags().feature(), "inbox-triage");
  EXPECT_EQ(run.charged_tags().workload_class(), v1::WORKLOAD_CLASS_INTERACTIVE);
  EXPECT_EQ(run.total_cost_nano_usd(), 146'000 * kMicroUsd);
  EXPECT_EQ(run.retry_cost_nano_usd(), 20'000 * kMicroUsd);
  EXPECT_EQ(run.orphan_cost_nano_usd(), 10'000 * kMicroUsd);
  EXPECT_EQ(run.invalid_cost_nano_usd(), 1'000 * kMicroUsd);
  EXPECT_EQ(run.step_count(), 8);
  EXPECT_EQ(run.unpriced_steps(), 1);
  EXPECT_EQ(run.pending_steps(), 1);
  EXPECT_EQ(run.drift_steps(), 1);
  EXPECT_EQ(run.retry_steps(), 1);
  EXPECT_EQ(run.first_seen().seconds(), 1'767'225'600);
  EXPECT_EQ(run.last_seen().seconds(), 1'767'225'607);

  ASSERT_EQ(run.roots_size(), 1);
  const v1::RunNode& r = run.roots(0);
  EXPECT_EQ(r.own_cost_nano_usd(), 100'000 * kMicroUsd);
  EXPECT_EQ(r.subtree_cost_nano_usd(), 135'000 * kMicroUsd);
  EXPECT_EQ(r.subtree_retry_cost_nano_usd(), 20'000 * kMicroUsd);
  EXPECT_EQ(r.subtree_steps(), 5);
  EXPECT_EQ(r.subtree_unpriced_steps(), 1);
  EXPECT_EQ(r.attribution_status(), "complete");
  EXPECT_EQ(r.usage().input_uncached_tokens(), 100);
  EXPECT_FALSE(r.usage().has_cache_read_tokens());  // unknown stays unknown
  ASSERT_EQ(r.children_size(), 3);                  // sibling order: started_at
  const v1::RunNode& a = r.children(0);
  const v1::RunNode& a2 = r.children(1);
  const v1::RunNode& t = r.children(2);
  EXPECT_EQ(a.step_id(), "a");
  EXPECT_EQ(a.attempt(), 1);
  EXPECT_EQ(a.attempts(), 2);
  EXPECT_EQ(a.status(), "error");
  EXPECT_EQ(a2.attempt(), 2);
  EXPECT_EQ(a2.attempts(), 2);
  EXPECT_EQ(a2.operation_id(), "op-1");
  EXPECT_EQ(t.kind(), v1::STEP_KIND_TOOL_CALL);
  EXPECT_FALSE(t.has_own_cost_nano_usd());  // unpriced, not zero
  EXPECT_EQ(t.subtree_cost_nano_usd(), 5'000 * kMicroUsd);
  EXPECT_EQ(t.tool_owner_team(), "search-platform");
  EXPECT_EQ(t.attribution_status(), "inherited");
  EXPECT_TRUE(t.tags().team().empty());
  EXPECT_EQ(t.charged_tags().team(), "mail");  // the calling feature pays
  ASSERT_EQ(t.children_size(), 1);
  EXPECT_TRUE(t.children(0).tag_drift());
  EXPECT_EQ(t.children(0).tags().team(), "search-platform-ml");
  EXPECT_EQ(t.children(0).charged_tags().team(), "mail");

  ASSERT_EQ(run.orphans_size(), 1);
  const v1::RunNode& o = run.orphans(0);
  EXPECT_EQ(o.step_id(), "o");
  EXPECT_EQ(o.parent_step_id(), "gone");
  EXPECT_EQ(o.orphan_reason(), "parent_never_seen");
  EXPECT_EQ(o.attribution_status(), "pending");
  EXPECT_EQ(o.subtree_cost_nano_usd(), 10'000 * kMicroUsd);
  ASSERT_EQ(o.children_size(), 1);
  EXPECT_EQ(o.children(0).step_id(), "o1");
  EXPECT_TRUE(o.children(0).orphan_reason().empty());  // only the top says why

  ASSERT_EQ(run.invalid_size(), 1);
  EXPECT_EQ(run.invalid(0).step().step_id(), "x");
  EXPECT_EQ(run.invalid(0).reason(), "self_parent");
  EXPECT_EQ(run.invalid(0).step().own_cost_nano_usd(), 1'000 * kMicroUsd);
  EXPECT_FALSE(run.invalid(0).detail().empty());
  EXPECT_EQ(run.issues_size(), 0);
}

TEST(RunConvertTest, RunWithoutRootHasNoChargedTagsAndListsEverythingAsOrphans) {
  std::vector<StepRecord> steps = {Stored("a", "r", 5, 1), Stored("b", "a", 7, 2)};
  const v1::Run run = Convert(steps);
  EXPECT_FALSE(run.has_charged_tags());
  EXPECT_TRUE(run.root_step_id().empty());
  EXPECT_EQ(run.roots_size(), 0);
  ASSERT_EQ(run.orphans_size(), 1);
  EXPECT_EQ(run.orphans(0).parent_step_id(), "r");
  EXPECT_EQ(run.total_cost_nano_usd(), 12);
}

TEST(RunConvertTest, IssuesAreReportedWithTheirKind) {
  std::vector<StepRecord> steps = {Stored("r", "", 1, 0), Stored("r2", "", 1, 1)};
  const v1::Run run = Convert(steps);
  ASSERT_EQ(run.issues_size(), 1);
  EXPECT_EQ(run.issues(0).rfind("multiple_roots: ", 0), 0u) << run.issues(0);
  EXPECT_EQ(run.roots_size(), 2);
  EXPECT_EQ(run.root_step_id(), "r");
}

TEST(RunConvertTest, DeepChainIsCutAtTheNestingLimitAndStillParsesWithFullTotals) {
  constexpr int kDepth = 300;
  std::vector<StepRecord> steps;
  for (int i = 0; i < kDepth; ++i) {
    steps.push_back(
        Stored("s" + std::to_string(i), i == 0 ? "" : "s" + std::to_string(i - 1), 2, i));
  }
  const v1::Run run = Convert(steps);
  EXPECT_EQ(run.total_cost_nano_usd(), 2 * kDepth);
  const v1::RunNode* n = &run.roots(0);
  EXPECT_EQ(n->subtree_cost_nano_usd(), 2 * kDepth);
  int depth = 0;
  while (n->children_size() > 0) {
    n = &n->children(0);
    ++depth;
  }
  EXPECT_EQ(depth, kMaxRunNestingDepth);
  EXPECT_TRUE(n->children_omitted());
  EXPECT_EQ(n->subtree_steps(), kDepth - kMaxRunNestingDepth);
  ASSERT_EQ(run.issues_size(), 1);
  EXPECT_EQ(run.issues(0).rfind("depth_limit: ", 0), 0u) << run.issues(0);
  // What a client receives must parse under protobuf's default recursion limit.
  v1::Run parsed;
  ASSERT_TRUE(parsed.ParseFromString(run.SerializeAsString()));
  EXPECT_EQ(parsed.total_cost_nano_usd(), 2 * kDepth);
}

}  // namespace
}  // namespace stepledger::transport
