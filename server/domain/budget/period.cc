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

// [start, end) of the month containing t. The civil-time conversion costs more than the rest of
// a budget check's arithmetic together, and nearly every call asks about the current month, so
// each thread remembers the last month it computed.
struct Month {
  absl::Time start = absl::InfiniteFuture();
  absl::Time end = absl::InfinitePast();
};
Month MonthOf(absl::Time t) {
  thread_local Month cached;
  if (t >= cached.start && t < cached.end) return cached;
  const absl::CivilMonth month = absl::ToCivilMonth(t, absl::UTCTimeZone());
  cached = {absl::FromCivil(month, absl::UTCTimeZone()),
            absl::FromCivil(month + 1, absl::UTCTimeZone())};
  return cached;
}

}  // namespace

absl::Time PeriodStart(Period period, absl::Time t) {
  if (period == Period::kMonthly) return MonthOf(t).start;
  return absl::FromUnixSeconds(FloorDiv(absl::ToUnixSeconds(t), kSecondsPerDay) * kSecondsPerDay);
}

absl::Time PeriodEnd(Period period, absl::Time t) {
  if (period == Period::kMonthly) return MonthOf(t).end;
  return PeriodStart(Period::kDaily, t) + absl::Hours(24);
}

}  // namespace stepledger::domain::budget
