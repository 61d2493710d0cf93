#include "server/domain/reports/budget_math.h"

#include <algorithm>

namespace stepledger::domain::reports {
namespace {

// a * b / c rounded half away from zero, without overflow for nano-USD amounts.
int64_t MulDiv(int64_t a, int64_t b, int64_t c) {
  const __int128 num = static_cast<__int128>(a) * b;
  const __int128 half = c / 2;
  const __int128 q = num >= 0 ? (num + half) / c : (num - half) / c;
  return static_cast<int64_t>(q);
}

}  // namespace

int DaysInMonth(absl::CivilMonth month) {
  return static_cast<int>(absl::CivilDay(month + 1) - absl::CivilDay(month));
}

int64_t DaysInclusive(absl::CivilDay from, absl::CivilDay to) {
  return to < from ? 0 : (to - from) + 1;
}

int64_t BudgetForDays(int64_t limit_nano_usd, CapPeriod period, absl::CivilDay from,
                      absl::CivilDay to) {
  if (to < from) return 0;
  if (period == CapPeriod::kDaily) return limit_nano_usd * DaysInclusive(from, to);
  // Month by month: a period spanning two months takes its share of each.
  int64_t total = 0;
  for (absl::CivilMonth m(from); m <= absl::CivilMonth(to); ++m) {
    const absl::CivilDay first = std::max(from, absl::CivilDay(m));
    const absl::CivilDay last = std::min(to, absl::CivilDay(m + 1) - 1);
    const int64_t covered = DaysInclusive(first, last);
    const int dim = DaysInMonth(m);
    total += covered == dim ? limit_nano_usd : MulDiv(limit_nano_usd, covered, dim);
  }
  return total;
}

Variance ComputeVariance(int64_t spend_nano_usd, int64_t prorated_budget_nano_usd) {
  Variance v;
  v.variance_nano_usd = spend_nano_usd - prorated_budget_nano_usd;
  v.variance_share = prorated_budget_nano_usd > 0
                         ? static_cast<double>(v.variance_nano_usd) / prorated_budget_nano_usd
                         : 0;
  v.over_budget = v.variance_nano_usd > 0;
  return v;
}

int64_t TwiceMedian(std::vector<int64_t> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  if (n % 2 == 1) return 2 * values[n / 2];
  return values[n / 2 - 1] + values[n / 2];
}

std::vector<bool> AboveMultipleOfMedian(const std::vector<int64_t>& values, int64_t multiple) {
  const int64_t twice_median = TwiceMedian(values);
  std::vector<bool> out;
  out.reserve(values.size());
  // value > multiple * median  <=>  2 * value > multiple * (2 * median): exact in integers.
  for (int64_t v : values) {
    out.push_back(static_cast<__int128>(2) * v > static_cast<__int128>(multiple) * twice_median);
  }
  return out;
}

double Share(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace stepledger::domain::reports
