#include "server/domain/budget/burn_rate.h"

#include "gtest/gtest.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using testing::Utc;

TEST(BurnRingTest, SumsTheSixtyMinutesEndingAtNow) {
  BurnRing ring;
  const absl::Time t = Utc(2024, 3, 14, 12);
  ring.Add(t - absl::Minutes(61), 1000);  // Never in the window ending at t.
  ring.Add(t - absl::Minutes(59), 10);
  ring.Add(t - absl::Minutes(1), 20);
  ring.Add(t, 30);
  EXPECT_EQ(ring.LastHour(t), 60);
  EXPECT_EQ(ring.LastHour(t + absl::Minutes(1)), 50);  // The 59-minute-old bucket left.
  EXPECT_EQ(ring.LastHour(t + absl::Minutes(59)), 30);
  EXPECT_EQ(ring.LastHour(t + absl::Minutes(60)), 0);
}

TEST(BurnRingTest, AnIdleHourClearsTheWindowAndLateSpendOutsideItIsIgnored) {
  BurnRing ring;
  const absl::Time t = Utc(2024, 3, 14, 12);
  ring.Add(t, 5);
  ring.Add(t + absl::Hours(3), 7);
  EXPECT_EQ(ring.LastHour(t + absl::Hours(3)), 7);
  ring.Add(t + absl::Hours(1), 100);  // Late, and older than the window: not a rate.
  EXPECT_EQ(ring.LastHour(t + absl::Hours(3)), 7);
}

TEST(BurnRingTest, ProjectsExhaustionOnlyWithinThePeriod) {
  const absl::Time now = Utc(2024, 3, 14, 12);
  const absl::Time end = Utc(2024, 3, 15);
  EXPECT_EQ(ProjectExhaustion(0, 10, now, end), now);
  EXPECT_EQ(ProjectExhaustion(30, 10, now, end), now + absl::Hours(3));
  EXPECT_EQ(ProjectExhaustion(30, 0, now, end), std::nullopt);
  EXPECT_EQ(ProjectExhaustion(120, 10, now, end), std::nullopt);  // 12 h: at the period end.
}

}  // namespace
}  // namespace stepledger::domain::budget
