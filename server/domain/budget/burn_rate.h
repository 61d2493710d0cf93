// Spend over the last hour, from a ring of 60 per-minute buckets, for the "burn rate" and
// "projected exhaustion" a CheckBudget answer reports per cap.
//
// The ring keeps the newest minute it has seen and a running total of the 60 minutes ending
// there; buckets are zeroed as the newest minute moves on, so no timer is needed. A read at the
// newest minute (the common case on the check path) is O(1) and touches one cache line; a read
// later than that subtracts the buckets that fell out of the window. Spend is bucketed by when
// it occurred; spend 60 minutes or more older than the newest minute is ignored (it still counts
// towards the period's total, only not towards the rate).
//
// Invariant: window_total_ == sum of amount_ (every bucket not in the window is zero).
// Memory: 496 bytes per counter.
// Thread safety: none; the owner serialises access (the engine's mutex).
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_BURN_RATE_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_BURN_RATE_H_

#include <array>
#include <cstdint>
#include <optional>

#include "absl/time/time.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

class BurnRing {
 public:
  static constexpr int kMinutes = 60;

  // REQUIRES: amount >= 0, `at` finite.
  void Add(absl::Time at, NanoUsd amount);

  // Spend that occurred in the 60 minutes ending with now's minute, i.e. nano-USD per hour.
  NanoUsd LastHour(absl::Time now) const;

 private:
  static constexpr int64_t kNoMinute = INT64_MIN / 2;  // Far from overflow when subtracted.

  int64_t newest_minute_ = kNoMinute;  // Minute since the epoch of the newest bucket.
  NanoUsd window_total_ = 0;           // Sum of the buckets (newest_minute_ - 60, newest].
  std::array<NanoUsd, kMinutes> amount_{};
};

// When `remaining` will be used up at `per_hour`, or nullopt when that is never or not before
// `period_end` (the counter resets then). remaining <= 0 means exhausted already: returns now.
std::optional<absl::Time> ProjectExhaustion(NanoUsd remaining, NanoUsd per_hour, absl::Time now,
                                            absl::Time period_end);

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_BURN_RATE_H_
