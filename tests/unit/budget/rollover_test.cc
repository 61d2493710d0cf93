// Calendar rollover in the engine: a new period is a new counter, never an overwrite.
#include "gtest/gtest.h"
#include "server/domain/budget/engine.h"
#include "tests/unit/budget/engine_fixture.h"

namespace stepledger::domain::budget {
namespace {

using testing::EngineTest;
using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using testing::Req;
using testing::Utc;

using RolloverTest = EngineTest;

CheckRequest At(absl::Time now, NanoUsd estimate) {
  CheckRequest r = Req(estimate);
  r.now = now;
  return r;
}

TEST_F(RolloverTest, DailyCapStartsANewCounterAtUtcMidnight) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(90 * kUsd, "", ProdTags(), Utc(2024, 3, 14, 23, 30));
  const absl::Time last_second = Utc(2024, 3, 14, 23, 59, 59);
  EXPECT_EQ(MustCheck(At(last_second, 20 * kUsd)).decision, Decision::kRequireAck);

  const CheckResult after = MustCheck(At(Utc(2024, 3, 15), 20 * kUsd));
  EXPECT_EQ(after.decision, Decision::kAllow);
  EXPECT_EQ(StatusOf(after, "team").spent, 0);
  EXPECT_EQ(StatusOf(after, "team").period_start, Utc(2024, 3, 15));

  // A late event that occurred yesterday lands in yesterday's counter, which was not reset.
  Spend(5 * kUsd, "", ProdTags(), Utc(2024, 3, 14, 23, 50));
  EXPECT_EQ(StatusOf(MustCheck(At(last_second, 0)), "team").spent, 95 * kUsd);
  EXPECT_EQ(StatusOf(MustCheck(At(Utc(2024, 3, 15), 0)), "team").spent, 0);
}

TEST_F(RolloverTest, MonthlyCapStartsANewCounterOnTheFirstAfterLeapDay) {
  Put(MakeCap("team-monthly", Scope::kTeam, 1'000 * kUsd, Period::kMonthly));
  Put(MakeCap("team-daily", Scope::kTeam, 1'000 * kUsd, Period::kDaily));
  Spend(300 * kUsd, "", ProdTags(), Utc(2024, 2, 28, 12));
  Spend(600 * kUsd, "", ProdTags(), Utc(2024, 2, 29, 12));

  const CheckResult leap = MustCheck(At(Utc(2024, 2, 29, 23, 59, 59), 0));
  EXPECT_EQ(StatusOf(leap, "team-monthly").spent, 900 * kUsd);
  EXPECT_EQ(StatusOf(leap, "team-monthly").period_end, Utc(2024, 3, 1));
  EXPECT_EQ(StatusOf(leap, "team-daily").spent, 600 * kUsd);  // Feb 29 is its own day.
  EXPECT_EQ(StatusOf(leap, "team-daily").period_start, Utc(2024, 2, 29));

  const CheckResult march = MustCheck(At(Utc(2024, 3, 1), 0));
  EXPECT_EQ(StatusOf(march, "team-monthly").spent, 0);
  EXPECT_EQ(StatusOf(march, "team-monthly").period_start, Utc(2024, 3, 1));
  EXPECT_EQ(StatusOf(march, "team-monthly").period_end, Utc(2024, 4, 1));
  EXPECT_EQ(StatusOf(march, "team-daily").spent, 0);
}

TEST_F(RolloverTest, ClosedPeriodsArePrunedButNotWhileHoldingReservations) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(10 * kUsd, "", ProdTags(), Utc(2024, 3, 13, 12));
  const size_t before = engine_.Stats().counters;
  EXPECT_EQ(before, 4u);  // The watched team and the org, x 2 period kinds.
  // Daily counters of the 13th end on the 14th; the monthly ones stay (March is open).
  EXPECT_EQ(engine_.PruneClosedPeriods(Utc(2024, 3, 14)), 2);
  EXPECT_EQ(engine_.Stats().counters, 2u);

  // A reservation made on the 14th holds that day's counters until it ends.
  MustCheck(testing::ReserveReq(kUsd, "step-1"));
  EXPECT_EQ(engine_.Stats().counters, 4u);
  EXPECT_EQ(engine_.PruneClosedPeriods(Utc(2024, 3, 16)), 0);
  EXPECT_EQ(engine_.ExpireReservations(clock_.Now() + kDefaultReservationTtl), 1);
  EXPECT_EQ(engine_.PruneClosedPeriods(Utc(2024, 3, 16)), 2);
}

// A key's index entry remembers its newest counters so checks skip the counter table; pruning
// must make it forget them (under ASan a stale pointer here is a use-after-free).
TEST_F(RolloverTest, PrunedCountersAreNeverReadThroughTheIndex) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(10 * kUsd, "", ProdTags(), Utc(2024, 3, 13, 12));
  EXPECT_EQ(StatusOf(MustCheck(At(Utc(2024, 3, 13, 13), 0)), "team").spent, 10 * kUsd);
  EXPECT_EQ(engine_.PruneClosedPeriods(Utc(2024, 3, 14)), 2);  // The 13th's daily counters.
  // A check still dated the 13th (a caller's clock behind) finds no counter, not freed memory.
  EXPECT_EQ(StatusOf(MustCheck(At(Utc(2024, 3, 13, 13), 0)), "team").spent, 0);
  Spend(7 * kUsd, "", ProdTags(), Utc(2024, 3, 14, 12));
  EXPECT_EQ(StatusOf(MustCheck(At(Utc(2024, 3, 14, 13), 0)), "team").spent, 7 * kUsd);
}

// The remembered counter is for one environment; a check in another reads its own.
TEST_F(RolloverTest, RememberedCounterServesOnlyItsEnvironment) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Spend(10 * kUsd);
  Tags staging = ProdTags();
  staging.environment = Environment::kStaging;
  Spend(3 * kUsd, "", staging);  // Now the staging counter is the remembered one.
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 10 * kUsd);
  Spend(1 * kUsd);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 11 * kUsd);
}

}  // namespace
}  // namespace stepledger::domain::budget
