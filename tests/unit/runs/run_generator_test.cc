#include "tests/fakes/run_generator.h"

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::testing {
namespace {

std::string Fingerprint(const GeneratedRun& run) {
  std::string out = run.run_id;
  for (const domain::Step& s : run.steps) {
    out += "|" + s.event_id + "/" + s.step_id + "/" + s.parent_step_id + "/" +
           std::to_string(*s.cost_nano_usd);
  }
  return out;
}

TEST(RunGeneratorTest, SameSeedGivesTheSameRuns) {
  RunGenerator a(42), b(42), c(43);
  for (int i = 0; i < 20; ++i) {
    const std::string fa = Fingerprint(a.Next());
    EXPECT_EQ(fa, Fingerprint(b.Next()));
    EXPECT_NE(fa, Fingerprint(c.Next()));
  }
}

TEST(RunGeneratorTest, RunsRespectDepthFanOutAndTagging) {
  RunGenerator gen(7);
  int64_t steps = 0, retries = 0, operations = 0, tools = 0;
  int deepest = 0;
  for (int r = 0; r < 500; ++r) {
    GeneratedRun run = gen.Next();
    ASSERT_FALSE(run.steps.empty());
    EXPECT_TRUE(run.steps[0].parent_step_id.empty());
    std::map<std::string, int> depth{{run.steps[0].step_id, 0}};
    std::map<std::string, std::set<std::string>> ops_under;  // parent -> operation ids
    domain::NanoUsd total = 0;
    for (size_t i = 1; i < run.steps.size(); ++i) {
      const domain::Step& s = run.steps[i];
      ASSERT_TRUE(depth.contains(s.parent_step_id)) << "parent listed after child";
      depth[s.step_id] = depth[s.parent_step_id] + 1;
      ASSERT_LE(depth[s.step_id], 5);
      deepest = std::max(deepest, depth[s.step_id]);
      ops_under[s.parent_step_id].insert(s.operation_id);
      EXPECT_EQ(s.tags.parent_run_id, run.run_id);
      if (s.kind == domain::StepKind::kToolCall) {
        ++tools;
        // Another team's service: run id and parent only, no feature/team/tenant.
        EXPECT_TRUE(s.tags.feature.empty());
        EXPECT_TRUE(s.tags.team.empty());
        EXPECT_TRUE(s.tags.tenant.empty());
        EXPECT_FALSE(s.tool_owner_team.empty());
        EXPECT_NE(s.tool_owner_team, run.root_tags.team);
      }
      if (s.attempt == 1) ++operations;
      if (s.attempt > 1) ++retries;
    }
    for (const domain::Step& s : run.steps) total += *s.cost_nano_usd;
    EXPECT_EQ(total, run.total_cost_nano_usd);
    for (const auto& [parent, ops] : ops_under) EXPECT_LE(ops.size(), 8u);
    steps += static_cast<int64_t>(run.steps.size());
  }
  EXPECT_EQ(deepest, 5);
  EXPECT_GT(tools, 0);
  // About 5% of operations retried (each retried one adds 1 or 2 attempts).
  const double retried_share = static_cast<double>(retries) / 1.5 / operations;
  EXPECT_GT(retried_share, 0.03);
  EXPECT_LT(retried_share, 0.07);
  EXPECT_GT(steps / 500, 5);
}

}  // namespace
}  // namespace stepledger::testing
