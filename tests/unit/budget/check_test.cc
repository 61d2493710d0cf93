// CheckBudget decisions: tiers, thresholds, strongest-wins, shadow caps, matching, validation.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/budget/engine.h"
#include "tests/unit/budget/engine_fixture.h"

namespace stepledger::domain::budget {
namespace {

using testing::EngineTest;
using ::testing::HasSubstr;
using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using testing::Req;
using ::testing::StartsWith;

using CheckTest = EngineTest;

TEST_F(CheckTest, NoMatchingCapAllows) {
  const CheckResult r = MustCheck(Req(1'000 * kUsd));
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_TRUE(r.caps.empty());
  EXPECT_EQ(r.deciding_scope, Scope::kUnspecified);
}

TEST_F(CheckTest, EachTierAppliesItsDefaultActionWhenPushedOverItsLimit) {
  struct Case {
    Scope scope;
    Decision over;
  };
  for (const Case& c :
       {Case{Scope::kFeature, Decision::kAlert}, Case{Scope::kTeam, Decision::kRequireAck},
        Case{Scope::kTenant, Decision::kAlert}, Case{Scope::kOrg, Decision::kRequireAck}}) {
    SCOPED_TRACE(ToString(c.scope));
    BudgetEngine engine(clock_);
    ASSERT_TRUE(engine.UpsertCap(MakeCap("cap", c.scope, 100 * kUsd)).ok());
    auto r = engine.Check(Req(101 * kUsd));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->decision, c.over);
    EXPECT_EQ(r->deciding_scope, c.scope);
    EXPECT_EQ(r->deciding_cap_id, "cap");
  }
}

TEST_F(CheckTest, ExactlyEightyPercentAlertsAndOneNanoBelowAllows) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  EXPECT_EQ(DecisionFor(80 * kUsd - 1), Decision::kAllow);
  EXPECT_EQ(DecisionFor(80 * kUsd), Decision::kAlert);
}

TEST_F(CheckTest, ExactlyOneHundredPercentIsWithinTheCapAndOnlyStrictlyOverActs) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  EXPECT_EQ(DecisionFor(100 * kUsd), Decision::kAlert);
  EXPECT_EQ(DecisionFor(100 * kUsd + 1), Decision::kRequireAck);
}

TEST_F(CheckTest, ThresholdIsExactForLimitsThatDoNotDivideEvenly) {
  Cap cap = MakeCap("team", Scope::kTeam, 3);  // 80% of 3 nano-USD is 2.4.
  Put(cap);
  EXPECT_EQ(DecisionFor(2), Decision::kAllow);
  EXPECT_EQ(DecisionFor(3), Decision::kAlert);
}

TEST_F(CheckTest, EstimatePushesCommittedSpendOver) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(90 * kUsd);
  const CheckResult small = MustCheck(Req(5 * kUsd));
  EXPECT_EQ(small.decision, Decision::kAlert);  // 95%: past the threshold, within the cap.
  const CheckResult big = MustCheck(Req(11 * kUsd));
  EXPECT_EQ(big.decision, Decision::kRequireAck);
  const CapStatus& s = StatusOf(big, "team");
  EXPECT_EQ(s.spent, 90 * kUsd);
  EXPECT_EQ(s.remaining, 10 * kUsd);
}

TEST_F(CheckTest, StrongestDecisionWinsAndEveryCapReportsItsOwn) {
  Put(MakeCap("feature", Scope::kFeature, 10 * kUsd));  // Over: alert-only -> ALERT.
  Put(MakeCap("team", Scope::kTeam, 1'000 * kUsd));     // 2%: ALLOW.
  Put(MakeCap("tenant", Scope::kTenant, 20 * kUsd));    // 100%: ALERT.
  Put(MakeCap("org", Scope::kOrg, 15 * kUsd));          // Over: REQUIRE_ACK.
  const CheckResult r = MustCheck(Req(20 * kUsd));
  EXPECT_EQ(r.decision, Decision::kRequireAck);
  EXPECT_EQ(r.deciding_scope, Scope::kOrg);
  EXPECT_EQ(r.deciding_cap_id, "org");
  ASSERT_EQ(r.caps.size(), 4u);
  EXPECT_EQ(StatusOf(r, "feature").decision, Decision::kAlert);
  EXPECT_EQ(StatusOf(r, "team").decision, Decision::kAllow);
  EXPECT_EQ(StatusOf(r, "tenant").decision, Decision::kAlert);
  EXPECT_EQ(StatusOf(r, "org").decision, Decision::kRequireAck);
}

TEST_F(CheckTest, EqualDecisionsAreAttributedToTheTierThatNeedsAHumanFirst) {
  Put(MakeCap("feature", Scope::kFeature, 100 * kUsd));
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CheckResult r = MustCheck(Req(90 * kUsd));  // Both ALERT.
  EXPECT_EQ(r.decision, Decision::kAlert);
  EXPECT_EQ(r.deciding_scope, Scope::kTeam);
}

TEST_F(CheckTest, ShadowCapIsEvaluatedAndReportedButNeverDecides) {
  Cap shadow = MakeCap("team-trial", Scope::kTeam, 10 * kUsd);
  shadow.shadow = true;
  Put(shadow);
  Put(MakeCap("feature", Scope::kFeature, 1'000 * kUsd));
  const CheckResult r = MustCheck(Req(50 * kUsd));
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_TRUE(r.deciding_cap_id.empty());
  const CapStatus& s = StatusOf(r, "team-trial");
  EXPECT_TRUE(s.cap->shadow);
  EXPECT_EQ(s.decision, Decision::kRequireAck);
}

TEST_F(CheckTest, OnlyCapsOnTheRequestsKeysAndEnvironmentApply) {
  Put(MakeCap("feature", Scope::kFeature, kUsd));
  Cap other = MakeCap("other-team", Scope::kTeam, kUsd);
  other.key = "billing";
  Put(other);
  Cap staging = MakeCap("staging-org", Scope::kOrg, kUsd);
  staging.environment = Environment::kStaging;
  Put(staging);
  const CheckResult r = MustCheck(Req(10 * kUsd));
  ASSERT_EQ(r.caps.size(), 1u);
  EXPECT_EQ(r.caps[0].cap->id, "feature");
}

TEST_F(CheckTest, SpendIsChargedToEveryTierTheStepFallsUnder) {
  Put(MakeCap("feature", Scope::kFeature, 100 * kUsd));
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Put(MakeCap("tenant", Scope::kTenant, 100 * kUsd));
  Put(MakeCap("org", Scope::kOrg, 100 * kUsd));
  Put(MakeCap("org-monthly", Scope::kOrg, 100 * kUsd, Period::kMonthly));
  Spend(7 * kUsd);
  const CheckResult r = MustCheck(Req(0));
  ASSERT_EQ(r.caps.size(), 5u);
  for (const CapStatus& s : r.caps) EXPECT_EQ(s.spent, 7 * kUsd) << s.cap->id;
}

TEST_F(CheckTest, StatusReportsPeriodBurnRateAndProjectedExhaustion) {
  clock_.Set(testing::Utc(2024, 3, 14, 2));
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(10 * kUsd, "", ProdTags(), clock_.Now() - absl::Minutes(90));  // Outside the hour.
  Spend(10 * kUsd, "", ProdTags(), clock_.Now() - absl::Minutes(30));
  const CapStatus s = StatusOf(MustCheck(Req(0)), "team");
  EXPECT_EQ(s.spent, 20 * kUsd);
  EXPECT_EQ(s.burn_rate_per_hour, 10 * kUsd);
  EXPECT_EQ(s.remaining, 80 * kUsd);
  EXPECT_EQ(s.period_start, testing::Utc(2024, 3, 14));
  EXPECT_EQ(s.period_end, testing::Utc(2024, 3, 15));
  EXPECT_EQ(s.cap->owner, "lead@example.com");
  ASSERT_TRUE(s.projected_exhaustion.has_value());
  EXPECT_EQ(*s.projected_exhaustion, testing::Utc(2024, 3, 14, 10));  // 80 USD at 10 USD/h.
}

TEST_F(CheckTest, NoProjectedExhaustionWhenThePeriodEndsFirst) {
  clock_.Set(testing::Utc(2024, 3, 14, 23));
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(10 * kUsd);
  EXPECT_FALSE(StatusOf(MustCheck(Req(0)), "team").projected_exhaustion.has_value());
}

TEST_F(CheckTest, InvalidRequestsAreRejectedNamingTheFieldAndNeverAllowed) {
  Put(MakeCap("org", Scope::kOrg, 100 * kUsd));
  struct Case {
    const char* field;
    CheckRequest request;
  };
  Tags no_feature = ProdTags();
  no_feature.feature.clear();
  Tags no_team = ProdTags();
  no_team.team.clear();
  Tags no_tenant = ProdTags();
  no_tenant.tenant.clear();
  Tags no_class = ProdTags();
  no_class.workload_class = WorkloadClass::kUnspecified;
  Tags no_run = ProdTags();
  no_run.parent_run_id.clear();
  Tags no_env = ProdTags();
  no_env.environment = Environment::kUnspecified;
  Tags bad_feature = ProdTags();
  bad_feature.feature = "Inbox Triage";
  CheckRequest reserve_without_step = Req(kUsd);
  reserve_without_step.reserve = true;
  for (const Case& c :
       {Case{"tags.feature", Req(kUsd, no_feature)}, Case{"tags.team", Req(kUsd, no_team)},
        Case{"tags.tenant", Req(kUsd, no_tenant)}, Case{"tags.workload_class", Req(kUsd, no_class)},
        Case{"tags.parent_run_id", Req(kUsd, no_run)}, Case{"tags.environment", Req(kUsd, no_env)},
        Case{"tags.feature", Req(kUsd, bad_feature)}, Case{"estimated_cost_nano_usd", Req(-1)},
        Case{"estimated_cost_nano_usd", Req(kMaxLimitNanoUsd + 1)},
        Case{"step_id", reserve_without_step}}) {
    const absl::StatusOr<CheckResult> r = engine_.Check(c.request);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(r.status().message()), StartsWith(c.field));
  }
}

TEST_F(CheckTest, OutsideProductionMissingTagsAreAcceptedAndMatchNoCapOfTheirTier) {
  Tags staging;  // Only the environment: accepted outside production.
  staging.environment = Environment::kStaging;
  Cap org = MakeCap("org", Scope::kOrg, 100 * kUsd);
  org.environment = Environment::kStaging;
  Put(org);
  Cap feature = MakeCap("feature", Scope::kFeature, kUsd);
  feature.environment = Environment::kStaging;
  Put(feature);
  const CheckResult r = MustCheck(Req(90 * kUsd, staging));
  ASSERT_EQ(r.caps.size(), 1u);
  EXPECT_EQ(r.caps[0].cap->id, "org");
  EXPECT_EQ(r.decision, Decision::kAlert);
}

TEST_F(CheckTest, CapsCanBeReplacedListedAndDeleted) {
  Put(MakeCap("b-team", Scope::kTeam, 100 * kUsd));
  Put(MakeCap("a-feature", Scope::kFeature, 100 * kUsd));
  Cap smaller = MakeCap("b-team", Scope::kTeam, 10 * kUsd);
  Put(smaller);
  const std::vector<Cap> caps = engine_.ListCaps();
  ASSERT_EQ(caps.size(), 2u);
  EXPECT_EQ(caps[0].id, "a-feature");
  EXPECT_EQ(caps[1].limit_nano_usd, 10 * kUsd);
  EXPECT_EQ(caps[1].action, Action::kRequireAck);  // Stored with the tier default resolved.
  EXPECT_EQ(DecisionFor(50 * kUsd), Decision::kRequireAck);

  ASSERT_TRUE(engine_.DeleteCap("b-team").ok());
  EXPECT_EQ(DecisionFor(50 * kUsd), Decision::kAllow);
  EXPECT_EQ(engine_.DeleteCap("b-team").code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(engine_.UpsertCap(Cap{}).status().message()), HasSubstr("id"));
}

TEST_F(CheckTest, CheckUsesTheClockWhenTheRequestCarriesNoTime) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(90 * kUsd);
  clock_.Advance(absl::Hours(24));  // Tomorrow: a fresh counter.
  EXPECT_EQ(DecisionFor(20 * kUsd), Decision::kAllow);
}

// A check reads only the counters of the periods a key's caps watch; that set must follow caps
// as they come and go on the key.
TEST_F(CheckTest, SpentFollowsEachPeriodAsCapsOnAKeyComeAndGo) {
  Put(MakeCap("daily", Scope::kTeam, 100 * kUsd, Period::kDaily));
  // Yesterday's spend is in this month's counter only.
  Spend(7 * kUsd, "", ProdTags(), clock_.Now() - absl::Hours(24));
  Spend(3 * kUsd);
  EXPECT_EQ(StatusOf(MustCheck(Req(1)), "daily").spent, 3 * kUsd);

  Put(MakeCap("monthly", Scope::kTeam, 1'000 * kUsd, Period::kMonthly));
  CheckResult both = MustCheck(Req(1));
  ASSERT_EQ(both.caps.size(), 2u);
  EXPECT_EQ(StatusOf(both, "daily").spent, 3 * kUsd);
  EXPECT_EQ(StatusOf(both, "monthly").spent, 10 * kUsd);

  ASSERT_TRUE(engine_.DeleteCap("daily").ok());
  CheckResult monthly_only = MustCheck(Req(1));
  ASSERT_EQ(monthly_only.caps.size(), 1u);
  EXPECT_EQ(StatusOf(monthly_only, "monthly").spent, 10 * kUsd);

  // The key's last cap goes, and its counters with it: the engine keeps no key no cap watches.
  // A cap added for it again starts from what storage holds (BudgetCoordinator reads it).
  ASSERT_TRUE(engine_.DeleteCap("monthly").ok());
  Put(MakeCap("daily-again", Scope::kTeam, 100 * kUsd, Period::kDaily));
  CheckResult daily_again = MustCheck(Req(1));
  ASSERT_EQ(daily_again.caps.size(), 1u);
  EXPECT_EQ(StatusOf(daily_again, "daily-again").spent, 0);
  Spend(2 * kUsd);
  EXPECT_EQ(StatusOf(MustCheck(Req(1)), "daily-again").spent, 2 * kUsd);
}

}  // namespace
}  // namespace stepledger::domain::budget
