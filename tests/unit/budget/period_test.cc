#include "server/domain/budget/period.h"

#include "gtest/gtest.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using ::stepledger::domain::budget::testing::Utc;

TEST(PeriodTest, DailyPeriodIsTheUtcCalendarDayHalfOpen) {
  const absl::Time last_ns = Utc(2024, 3, 14, 0, 0, 0) - absl::Nanoseconds(1);
  EXPECT_EQ(PeriodStart(Period::kDaily, last_ns), Utc(2024, 3, 13));
  EXPECT_EQ(PeriodEnd(Period::kDaily, last_ns), Utc(2024, 3, 14));
  // Midnight exactly belongs to the new day.
  EXPECT_EQ(PeriodStart(Period::kDaily, Utc(2024, 3, 14)), Utc(2024, 3, 14));
  EXPECT_EQ(PeriodEnd(Period::kDaily, Utc(2024, 3, 14)), Utc(2024, 3, 15));
}

TEST(PeriodTest, MonthlyPeriodRollsOverOnTheFirst) {
  EXPECT_EQ(PeriodStart(Period::kMonthly, Utc(2024, 3, 31, 23, 59, 59)), Utc(2024, 3, 1));
  EXPECT_EQ(PeriodEnd(Period::kMonthly, Utc(2024, 3, 31, 23, 59, 59)), Utc(2024, 4, 1));
  EXPECT_EQ(PeriodStart(Period::kMonthly, Utc(2024, 4, 1)), Utc(2024, 4, 1));
  EXPECT_EQ(PeriodEnd(Period::kMonthly, Utc(2024, 12, 31, 12)), Utc(2025, 1, 1));
}

TEST(PeriodTest, LeapDayIsItsOwnDayAndFebruaryEndsAfterIt) {
  const absl::Time leap_day = Utc(2024, 2, 29, 13);
  EXPECT_EQ(PeriodStart(Period::kDaily, leap_day), Utc(2024, 2, 29));
  EXPECT_EQ(PeriodEnd(Period::kDaily, leap_day), Utc(2024, 3, 1));
  EXPECT_EQ(PeriodStart(Period::kMonthly, leap_day), Utc(2024, 2, 1));
  EXPECT_EQ(PeriodEnd(Period::kMonthly, leap_day), Utc(2024, 3, 1));
  // A non-leap February ends after the 28th.
  EXPECT_EQ(PeriodEnd(Period::kMonthly, Utc(2023, 2, 28, 23)), Utc(2023, 3, 1));
  EXPECT_EQ(PeriodEnd(Period::kDaily, Utc(2023, 2, 28, 23)), Utc(2023, 3, 1));
}

TEST(PeriodTest, TimesBeforeTheEpochFloorCorrectly) {
  EXPECT_EQ(PeriodStart(Period::kDaily, Utc(1969, 12, 31, 23)), Utc(1969, 12, 31));
}

}  // namespace
}  // namespace stepledger::domain::budget
