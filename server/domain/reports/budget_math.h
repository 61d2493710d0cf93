// The arithmetic of the showback report, as pure functions over integers (money is nano-USD).
//
//   budget for a period   a monthly cap counts for the share of each month the period covers
//                         (cap x covered days / days in that month); a daily cap x days.
//   prorated budget       the budget for the elapsed part of the period only (first day
//                         through the last day with reported spend): "where spend should be by
//                         now", so a month-to-date report can be read on any day.
//   variance              spend - prorated budget; over budget when positive.
//   margin risk           a tenant whose spend is above 10x the median tenant spend.
//   share                 part / whole, 0 when whole is 0.
//
// Thread safety: stateless. Rounding is half away from zero on the nano-USD.
#ifndef STEPLEDGER_SERVER_DOMAIN_REPORTS_BUDGET_MATH_H_
#define STEPLEDGER_SERVER_DOMAIN_REPORTS_BUDGET_MATH_H_

#include <cstdint>
#include <vector>

#include "absl/time/civil_time.h"

namespace stepledger::domain::reports {

enum class CapPeriod { kDaily, kMonthly };

int DaysInMonth(absl::CivilMonth month);

// Days in [from, to], both inclusive; 0 when to < from.
int64_t DaysInclusive(absl::CivilDay from, absl::CivilDay to);

// The part of a cap that applies to [from, to] (inclusive). 0 when to < from.
int64_t BudgetForDays(int64_t limit_nano_usd, CapPeriod period, absl::CivilDay from,
                      absl::CivilDay to);

struct Variance {
  int64_t variance_nano_usd = 0;  // spend - prorated budget
  double variance_share = 0;      // variance / prorated budget (0 without a budget)
  bool over_budget = false;
};

// REQUIRES: prorated_budget_nano_usd >= 0.
Variance ComputeVariance(int64_t spend_nano_usd, int64_t prorated_budget_nano_usd);

// Median of the values (mean of the two middle ones for an even count, kept exact as
// twice the median to avoid rounding). Returns 0 for no values.
int64_t TwiceMedian(std::vector<int64_t> values);

// For each value: true when it is above `multiple` x the median of all values.
std::vector<bool> AboveMultipleOfMedian(const std::vector<int64_t>& values, int64_t multiple);

double Share(int64_t part, int64_t whole);

}  // namespace stepledger::domain::reports

#endif  // STEPLEDGER_SERVER_DOMAIN_REPORTS_BUDGET_MATH_H_
