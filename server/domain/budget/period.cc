#include "server/domain/budget/period.h"

#include <cstdint>

#include "absl/time/civil_time.h"

namespace stepledger::domain::budget {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

// UTC days have no DST and absl::Time has no leap seconds, so a day is exactly 86400 s and
// flooring the Unix time is both exact and much cheaper than a civil-time conversion; this sits
// on the CheckBudget hot path.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

absl::Time PeriodStart(Period period, absl::Time t) {
  if (period == Period::kMonthly) {
    const absl::CivilMonth month = absl::ToCivilMonth(t, absl::UTCTimeZone());
    return absl::FromCivil(month, absl::UTCTimeZone());
  }
  return absl::FromUnixSeconds(FloorDiv(absl::ToUnixSeconds(t), kSecondsPerDay) * kSecondsPerDay);
}

absl::Time PeriodEnd(Period period, absl::Time t) {
  if (period == Period::kMonthly) {
    const absl::CivilMonth month = absl::ToCivilMonth(t, absl::UTCTimeZone());
    return absl::FromCivil(month + 1, absl::UTCTimeZone());
  }
  return PeriodStart(Period::kDaily, t) + absl::Hours(24);
}

}  // namespace stepledger::domain::budget
