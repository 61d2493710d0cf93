#include "server/domain/budget/burn_rate.h"

#include <algorithm>

#include "absl/numeric/int128.h"

namespace stepledger::domain::budget {
namespace {

int64_t MinuteOf(absl::Time t) {
  const int64_t s = absl::ToUnixSeconds(t);  // Rounds towards the infinite past.
  return s >= 0 ? s / 60 : -((-s + 59) / 60);
}

size_t SlotOf(int64_t minute) {
  const int64_t m = minute % BurnRing::kMinutes;
  return static_cast<size_t>(m < 0 ? m + BurnRing::kMinutes : m);
}

}  // namespace

void BurnRing::Add(absl::Time at, NanoUsd amount) {
  const int64_t minute = MinuteOf(at);
  if (newest_minute_ == kNoMinute) newest_minute_ = minute;
  if (minute > newest_minute_) {
    // Zero the buckets the window slides past (all of them after an idle hour).
    const int64_t steps = std::min<int64_t>(minute - newest_minute_, kMinutes);
    for (int64_t m = minute - steps + 1; m <= minute; ++m) {
      window_total_ -= amount_[SlotOf(m)];
      amount_[SlotOf(m)] = 0;
    }
    newest_minute_ = minute;
  }
  if (minute <= newest_minute_ - kMinutes) return;  // Outside the window.
  amount_[SlotOf(minute)] += amount;
  window_total_ += amount;
}

NanoUsd BurnRing::LastHour(absl::Time now) const {
  const int64_t now_minute = MinuteOf(now);
  if (newest_minute_ == kNoMinute || now_minute >= newest_minute_ + kMinutes) return 0;
  NanoUsd total = window_total_;
  // Buckets in (newest - 60, now - 60] have left the hour ending at now's minute.
  for (int64_t m = newest_minute_ - kMinutes + 1; m <= now_minute - kMinutes; ++m) {
    total -= amount_[SlotOf(m)];
  }
  return total;
}

std::optional<absl::Time> ProjectExhaustion(NanoUsd remaining, NanoUsd per_hour, absl::Time now,
                                            absl::Time period_end) {
  if (remaining <= 0) return now;
  if (per_hour <= 0) return std::nullopt;
  // Seconds until exhaustion, in 128 bits: remaining * 3600 can exceed int64.
  const absl::int128 seconds = absl::int128(remaining) * 3600 / per_hour;
  const absl::int128 horizon = absl::ToInt64Seconds(period_end - now);
  if (seconds >= horizon) return std::nullopt;
  return now + absl::Seconds(static_cast<int64_t>(seconds));
}

}  // namespace stepledger::domain::budget
