// BudgetEngine::SpendPerCap and CapSnapshot: what the per-cap metrics and the refresh's cap
// sync read instead of evaluating a probe check per cap or copying every cap.
#include <algorithm>
#include <map>
#include <string>

#include "gtest/gtest.h"
#include "tests/unit/budget/engine_fixture.h"

namespace stepledger::domain::budget::testing {
namespace {

class SpendPerCapTest : public EngineTest {
 protected:
  std::map<std::string, CapSpend> ById() {
    std::map<std::string, CapSpend> out;
    for (CapSpend& s : engine_.SpendPerCap(clock_.Now())) out.emplace(s.cap->id, std::move(s));
    return out;
  }
};

TEST_F(SpendPerCapTest, EveryCapWithItsCurrentPeriodsSpendAndEnd) {
  Put(MakeCap("f-daily", Scope::kFeature, 100 * kUsd, Period::kDaily));
  Put(MakeCap("f-monthly", Scope::kFeature, 900 * kUsd, Period::kMonthly));
  Put(MakeCap("team", Scope::kTeam, 500 * kUsd, Period::kMonthly));
  Put(MakeCap("org", Scope::kOrg, 5000 * kUsd, Period::kDaily));
  Spend(7 * kUsd, "", ProdTags(), Utc(2024, 3, 2));  // earlier this month, not today
  Spend(3 * kUsd);                                   // today

  const auto spend = ById();
  ASSERT_EQ(spend.size(), 4u);
  EXPECT_EQ(spend.at("f-daily").spent, 3 * kUsd);
  EXPECT_EQ(spend.at("f-monthly").spent, 10 * kUsd);
  EXPECT_EQ(spend.at("team").spent, 10 * kUsd);
  EXPECT_EQ(spend.at("org").spent, 3 * kUsd);
  EXPECT_EQ(spend.at("f-daily").period_end, Utc(2024, 3, 15));
  EXPECT_EQ(spend.at("team").period_end, Utc(2024, 4, 1));
}

TEST_F(SpendPerCapTest, EqualsWhatACheckReportsForTheSameCap) {
  Put(MakeCap("tenant", Scope::kTenant, 50 * kUsd, Period::kMonthly));
  Spend(12 * kUsd);
  const CheckResult r = MustCheck(Req(0));
  EXPECT_EQ(ById().at("tenant").spent, StatusOf(r, "tenant").spent);
  EXPECT_EQ(ById().at("tenant").period_end, StatusOf(r, "tenant").period_end);
}

TEST_F(SpendPerCapTest, CapWithoutSpendReportsZero) {
  Put(MakeCap("quiet", Scope::kTenant, 50 * kUsd));
  EXPECT_EQ(ById().at("quiet").spent, 0);
}

TEST_F(SpendPerCapTest, CapSnapshotSharesTheStoredCapsAndFollowsDeletes) {
  Put(MakeCap("a", Scope::kFeature, 10 * kUsd));
  Put(MakeCap("b", Scope::kTeam, 10 * kUsd));
  ASSERT_TRUE(engine_.DeleteCap("a").ok());
  const auto snapshot = engine_.CapSnapshot();
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_EQ(snapshot[0]->id, "b");
  EXPECT_EQ(snapshot[0]->action, Action::kRequireAck);  // stored with the tier default
}

}  // namespace
}  // namespace stepledger::domain::budget::testing
