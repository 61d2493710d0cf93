// What-if replay of past steps against proposed caps.
#include "server/domain/budget/what_if.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using ::testing::StartsWith;
using testing::Utc;

HistoricalStep Step(std::string feature, std::string run, NanoUsd cost, absl::Time at,
                    std::string team = "search") {
  return {ProdTags(std::move(feature), std::move(team), "acme", std::move(run)), cost, at};
}

void ExpectTally(const WhatIfTally& t, int64_t steps, int64_t runs, NanoUsd cost) {
  EXPECT_EQ(t.steps, steps);
  EXPECT_EQ(t.runs, runs);
  EXPECT_EQ(t.cost_nano_usd, cost);
}

TEST(WhatIfTest, CountsStepsRunsAndDollarsPerDecisionTeamAndFeature) {
  const std::vector<Cap> caps = {MakeCap("team", Scope::kTeam, 100 * kUsd)};
  const std::vector<HistoricalStep> history = {
      Step("inbox-triage", "r1", 50 * kUsd, Utc(2024, 3, 14, 9)),           // 50%: allow.
      Step("inbox-triage", "r1", 30 * kUsd, Utc(2024, 3, 14, 10)),          // Exactly 80%: alert.
      Step("inbox-triage", "r2", 30 * kUsd, Utc(2024, 3, 14, 11)),          // 110%: require ack.
      Step("summarise", "r3", 10 * kUsd, Utc(2024, 3, 14, 12)),             // 120%: require ack.
      Step("summarise", "r3", 10 * kUsd, Utc(2024, 3, 15, 1)),              // New day: allow.
      Step("summarise", "r4", 500 * kUsd, Utc(2024, 3, 15, 2), "billing"),  // Other team.
  };
  auto report = WhatIf(caps, history);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectTally(report->replayed, 6, 4, 630 * kUsd);
  ExpectTally(report->total.alert, 1, 1, 30 * kUsd);
  ExpectTally(report->total.require_ack, 2, 2, 40 * kUsd);

  ASSERT_EQ(report->by_team.size(), 1u);
  ExpectTally(report->by_team.at("search").require_ack, 2, 2, 40 * kUsd);
  ExpectTally(report->by_feature.at("inbox-triage").alert, 1, 1, 30 * kUsd);
  ExpectTally(report->by_feature.at("inbox-triage").require_ack, 1, 1, 30 * kUsd);
  ExpectTally(report->by_feature.at("summarise").alert, 0, 0, 0);
  ExpectTally(report->by_feature.at("summarise").require_ack, 1, 1, 10 * kUsd);
  ExpectTally(report->by_cap.at("team").require_ack, 2, 2, 40 * kUsd);
}

TEST(WhatIfTest, StrongestProposedCapClassifiesAStepAndShadowFlagIsIgnored) {
  Cap feature = MakeCap("feature", Scope::kFeature, 10 * kUsd);  // Alert-only.
  Cap org = MakeCap("org", Scope::kOrg, 1'000 * kUsd);
  org.shadow = true;  // Proposed caps are judged as if enforced.
  const std::vector<Cap> caps = {feature, org};
  const std::vector<HistoricalStep> history = {
      Step("inbox-triage", "r1", 20 * kUsd, Utc(2024, 3, 14, 9)),    // Feature over: alert.
      Step("inbox-triage", "r1", 990 * kUsd, Utc(2024, 3, 14, 10)),  // Org 101%: require ack.
  };
  auto report = WhatIf(caps, history);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectTally(report->total.alert, 1, 1, 20 * kUsd);
  ExpectTally(report->total.require_ack, 1, 1, 990 * kUsd);
  ExpectTally(report->by_cap.at("feature").alert, 2, 1, 1'010 * kUsd);
}

TEST(WhatIfTest, MonthlyCapRollsOverOnTheFirst) {
  const std::vector<Cap> caps = {MakeCap("team", Scope::kTeam, 100 * kUsd, Period::kMonthly)};
  const std::vector<HistoricalStep> history = {
      Step("f", "r1", 90 * kUsd, Utc(2024, 2, 29, 23)),  // 90%: alert.
      Step("f", "r2", 90 * kUsd, Utc(2024, 3, 1, 0)),    // New month, 90%: alert, not ack.
  };
  auto report = WhatIf(caps, history);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectTally(report->total.alert, 2, 2, 180 * kUsd);
  ExpectTally(report->total.require_ack, 0, 0, 0);
}

TEST(WhatIfTest, RejectsInvalidCapsUnorderedHistoryAndNegativeCosts) {
  Cap bad = MakeCap("team", Scope::kTeam, 100 * kUsd);
  bad.owner.clear();
  EXPECT_THAT(std::string(WhatIf({bad}, {}).status().message()), StartsWith("caps[0].owner"));

  const std::vector<Cap> caps = {MakeCap("team", Scope::kTeam, 100 * kUsd)};
  const std::vector<HistoricalStep> unordered = {Step("f", "r", kUsd, Utc(2024, 3, 14, 10)),
                                                 Step("f", "r", kUsd, Utc(2024, 3, 14, 9))};
  EXPECT_THAT(std::string(WhatIf(caps, unordered).status().message()),
              StartsWith("history[1].occurred_at"));
  const std::vector<HistoricalStep> negative = {Step("f", "r", -1, Utc(2024, 3, 14, 10))};
  EXPECT_THAT(std::string(WhatIf(caps, negative).status().message()),
              StartsWith("history[0].cost_nano_usd"));
}

}  // namespace
}  // namespace stepledger::domain::budget
