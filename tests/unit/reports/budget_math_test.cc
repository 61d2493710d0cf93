// Proration, variance, the 10x-median rule and shares: the arithmetic of the showback report.
#include "server/domain/reports/budget_math.h"

#include "gtest/gtest.h"
#include "server/domain/reports/showback.h"

namespace stepledger::domain::reports {
namespace {

constexpr int64_t kUsd = 1'000'000'000;

TEST(DaysInMonthTest, KnowsFebruaryLeapYearsAndThirtyOneDayMonths) {
  EXPECT_EQ(DaysInMonth(absl::CivilMonth(2024, 2)), 29);
  EXPECT_EQ(DaysInMonth(absl::CivilMonth(2025, 2)), 28);
  EXPECT_EQ(DaysInMonth(absl::CivilMonth(2100, 2)), 28);
  EXPECT_EQ(DaysInMonth(absl::CivilMonth(2025, 1)), 31);
  EXPECT_EQ(DaysInMonth(absl::CivilMonth(2025, 4)), 30);
  EXPECT_EQ(DaysInMonth(absl::CivilMonth(2025, 12)), 31);
}

TEST(BudgetForDaysTest, WholeMonthIsTheWholeMonthlyCap) {
  for (int m = 1; m <= 12; ++m) {
    const absl::CivilMonth month(2025, m);
    EXPECT_EQ(BudgetForDays(3100 * kUsd, CapPeriod::kMonthly, absl::CivilDay(month),
                            absl::CivilDay(month + 1) - 1),
              3100 * kUsd)
        << m;
  }
}

TEST(BudgetForDaysTest, ProratesByElapsedShareOfTheMonth) {
  // 10 of 31 days in January.
  EXPECT_EQ(BudgetForDays(3100 * kUsd, CapPeriod::kMonthly, absl::CivilDay(2025, 1, 1),
                          absl::CivilDay(2025, 1, 10)),
            1000 * kUsd);
  // 14 of 28 days in February 2025: exactly half.
  EXPECT_EQ(BudgetForDays(2800 * kUsd, CapPeriod::kMonthly, absl::CivilDay(2025, 2, 1),
                          absl::CivilDay(2025, 2, 14)),
            1400 * kUsd);
  // 14 of 29 days in February 2024: 1400 * 29 ... = 2900 * 14 / 29 = 1400.
  EXPECT_EQ(BudgetForDays(2900 * kUsd, CapPeriod::kMonthly, absl::CivilDay(2024, 2, 1),
                          absl::CivilDay(2024, 2, 14)),
            1400 * kUsd);
  // The last day of a 31-day month is a 31st of the cap; rounding is to the nano-USD.
  EXPECT_EQ(BudgetForDays(100, CapPeriod::kMonthly, absl::CivilDay(2025, 3, 31),
                          absl::CivilDay(2025, 3, 31)),
            3);  // 100/31 = 3.2 -> 3
  EXPECT_EQ(BudgetForDays(100, CapPeriod::kMonthly, absl::CivilDay(2025, 3, 1),
                          absl::CivilDay(2025, 3, 30)),
            97);  // 96.77 -> 97
}

TEST(BudgetForDaysTest, PeriodAcrossMonthsTakesEachMonthsShare) {
  // Jan 31 (1/31 of January) + Feb 1..28 (all of February 2025).
  EXPECT_EQ(BudgetForDays(3100 * kUsd, CapPeriod::kMonthly, absl::CivilDay(2025, 1, 31),
                          absl::CivilDay(2025, 2, 28)),
            100 * kUsd + 3100 * kUsd);
}

TEST(BudgetForDaysTest, DailyCapTimesDaysAndEmptyRangeIsZero) {
  EXPECT_EQ(BudgetForDays(5 * kUsd, CapPeriod::kDaily, absl::CivilDay(2024, 2, 1),
                          absl::CivilDay(2024, 2, 29)),
            145 * kUsd);
  EXPECT_EQ(BudgetForDays(5 * kUsd, CapPeriod::kDaily, absl::CivilDay(2024, 2, 2),
                          absl::CivilDay(2024, 2, 1)),
            0);
  EXPECT_EQ(BudgetForDays(5 * kUsd, CapPeriod::kMonthly, absl::CivilDay(2024, 2, 2),
                          absl::CivilDay(2024, 2, 1)),
            0);
}

TEST(VarianceTest, OverBudgetOnlyWhenSpendExceedsProratedBudget) {
  Variance v = ComputeVariance(120 * kUsd, 100 * kUsd);
  EXPECT_EQ(v.variance_nano_usd, 20 * kUsd);
  EXPECT_DOUBLE_EQ(v.variance_share, 0.2);
  EXPECT_TRUE(v.over_budget);

  v = ComputeVariance(100 * kUsd, 100 * kUsd);
  EXPECT_EQ(v.variance_nano_usd, 0);
  EXPECT_FALSE(v.over_budget);

  v = ComputeVariance(80 * kUsd, 100 * kUsd);
  EXPECT_EQ(v.variance_nano_usd, -20 * kUsd);
  EXPECT_DOUBLE_EQ(v.variance_share, -0.2);
  EXPECT_FALSE(v.over_budget);

  v = ComputeVariance(1, 0);  // a zero budget: any spend is over, share undefined -> 0
  EXPECT_TRUE(v.over_budget);
  EXPECT_DOUBLE_EQ(v.variance_share, 0);
}

TEST(VarianceTest, MidMonthSpendOnPaceIsNotFlaggedButAheadOfPaceIs) {
  // February 2025, 3 000 USD cap, 7 days elapsed: prorated 750.
  const int64_t prorated = BudgetForDays(3000 * kUsd, CapPeriod::kMonthly,
                                         absl::CivilDay(2025, 2, 1), absl::CivilDay(2025, 2, 7));
  EXPECT_EQ(prorated, 750 * kUsd);
  EXPECT_FALSE(ComputeVariance(750 * kUsd, prorated).over_budget);
  EXPECT_TRUE(ComputeVariance(751 * kUsd, prorated).over_budget);
}

TEST(MarginRiskTest, FlagsOnlyTenantsAboveTenTimesTheMedian) {
  // Median 10: 100 is exactly 10x (not above), 101 is above.
  const std::vector<bool> flags = AboveMultipleOfMedian({10, 9, 10, 100, 101}, 10);
  EXPECT_EQ(flags, (std::vector<bool>{false, false, false, false, true}));
}

TEST(MarginRiskTest, EvenCountUsesTheMeanOfTheMiddleTwoExactly) {
  // Median (10 + 11) / 2 = 10.5: 105 is not above 10x, 106 is.
  EXPECT_EQ(TwiceMedian({10, 11, 105, 1}), 21);
  EXPECT_EQ(AboveMultipleOfMedian({1, 10, 11, 105}, 10),
            (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(AboveMultipleOfMedian({1, 10, 11, 106}, 10),
            (std::vector<bool>{false, false, false, true}));
}

TEST(MarginRiskTest, NoTenantsOrOneTenantFlagsNothing) {
  EXPECT_TRUE(AboveMultipleOfMedian({}, 10).empty());
  EXPECT_EQ(AboveMultipleOfMedian({500}, 10), std::vector<bool>{false});
}

TEST(ShareTest, UnattributedShareIncludesTheUnattributedInTheTotal) {
  EXPECT_DOUBLE_EQ(UnattributedShare(25, 100), 0.25);
  EXPECT_DOUBLE_EQ(UnattributedShare(0, 100), 0.0);
  EXPECT_DOUBLE_EQ(UnattributedShare(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(UnattributedShare(100, 100), 1.0);
}

TEST(InvoiceTest, GapAboveFivePercentIsFlagged) {
  const Invoice inv{"openai", absl::CivilMonth(2025, 1), 1000 * kUsd};
  EXPECT_FALSE(ReconcileInvoice(inv, 950 * kUsd).flagged);  // exactly 5%
  EXPECT_TRUE(ReconcileInvoice(inv, 949 * kUsd).flagged);
  EXPECT_TRUE(ReconcileInvoice(inv, 1051 * kUsd).flagged);  // over-attributed is a bug too
  const InvoiceLine line = ReconcileInvoice(inv, 900 * kUsd);
  EXPECT_EQ(line.gap_nano_usd, 100 * kUsd);
  EXPECT_DOUBLE_EQ(line.gap_share, 0.1);
}

}  // namespace
}  // namespace stepledger::domain::reports
