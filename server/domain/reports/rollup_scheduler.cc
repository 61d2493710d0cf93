#include "server/domain/reports/rollup_scheduler.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stepledger::domain::reports {

absl::StatusOr<absl::Duration> ParseTimeOfDay(const std::string& text) {
  int h = -1, m = -1;
  const size_t colon = text.find(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(0, colon), &h) ||
      !absl::SimpleAtoi(text.substr(colon + 1), &m) || h < 0 || h > 23 || m < 0 || m > 59) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a UTC time of day HH:MM, got \"", text, "\""));
  }
  return absl::Hours(h) + absl::Minutes(m);
}

absl::Time NextRunTime(absl::Time after, absl::Duration time_of_day) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilDay today = absl::ToCivilDay(after, utc);
  absl::Time candidate = absl::FromCivil(today, utc) + time_of_day;
  if (candidate <= after) candidate = absl::FromCivil(today + 1, utc) + time_of_day;
  return candidate;
}

DayRange DaysToRoll(absl::Time now, int days_back) {
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  return DayRange{today - (days_back < 1 ? 1 : days_back), today - 1};
}

RollupScheduler::RollupScheduler(const Clock& clock, RollupScheduleOptions options, RollupFn rollup)
    : clock_(clock),
      options_(options),
      rollup_(std::move(rollup)),
      next_run_(NextRunTime(clock.Now(), options.time_of_day)) {}

bool RollupScheduler::Tick() {
  const absl::Time now = clock_.Now();
  if (now < next_run_) return false;
  const absl::Status s = rollup_(DaysToRoll(now, options_.days_back));
  next_run_ = s.ok() ? NextRunTime(now, options_.time_of_day) : now + options_.retry_after;
  return true;
}

}  // namespace stepledger::domain::reports
