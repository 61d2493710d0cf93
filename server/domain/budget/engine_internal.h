// Helpers shared by the files that implement BudgetEngine (engine.cc: caps and the index;
// engine_check.cc: checks, spend, reservations, acknowledgements; engine_refresh.cc: snapshots
// and pruning). Not part of the engine's interface.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_ENGINE_INTERNAL_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_ENGINE_INTERNAL_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/time/time.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/period.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget::engine_internal {

inline constexpr std::array<Period, 2> kPeriods = {Period::kDaily, Period::kMonthly};

// A period's bit in KeyCaps::periods: 1 << (its index in kPeriods).
inline uint8_t PeriodBit(Period p) { return p == Period::kDaily ? 1 : 2; }

// The four tiers a step is charged to, with the tag that keys each. An empty key (a missing tag
// outside production, or a quarantined step) matches no cap and charges no counter of that
// tier; the org tier always applies.
struct TierKey {
  Scope scope;
  std::string_view key;
};
inline std::array<TierKey, 4> TierKeys(const Tags& tags) {
  return {{{Scope::kFeature, tags.feature},
           {Scope::kTeam, tags.team},
           {Scope::kTenant, tags.tenant},
           {Scope::kOrg, kOrgKey}}};
}

// The period starts and ends of one instant, computed once per call: the monthly one needs a
// civil-time conversion, which is the most expensive arithmetic on the check path.
struct Periods {
  explicit Periods(absl::Time t)
      : daily_start(PeriodStart(Period::kDaily, t)),
        monthly_start(PeriodStart(Period::kMonthly, t)),
        daily_end(daily_start + absl::Hours(24)),
        monthly_end(PeriodEnd(Period::kMonthly, t)) {}
  absl::Time start(Period p) const { return p == Period::kDaily ? daily_start : monthly_start; }
  absl::Time end(Period p) const { return p == Period::kDaily ? daily_end : monthly_end; }

  absl::Time daily_start, monthly_start, daily_end, monthly_end;
};

inline bool IsFinite(absl::Time t) {
  return t != absl::InfinitePast() && t != absl::InfiniteFuture();
}

}  // namespace stepledger::domain::budget::engine_internal

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_ENGINE_INTERNAL_H_
