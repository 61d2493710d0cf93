// Calendar periods in UTC. A period is the half-open interval [PeriodStart, PeriodEnd): a step
// at exactly 00:00:00 UTC belongs to the new day, and a monthly period ends at the 1st of the
// next month (so February ends after the 28th or, in a leap year, the 29th).
//
// A period is identified by its start, which is part of a spend counter's key: rolling over
// creates a new counter rather than resetting the old one, so late events still land in the
// period in which they occurred and closed periods stay readable until pruned.
//
// Thread safety: pure functions (each thread caches the last month it converted).
// REQUIRES: `t` is finite and `period` is not kUnspecified.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_PERIOD_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_PERIOD_H_

#include "absl/time/time.h"
#include "server/domain/budget/cap.h"

namespace stepledger::domain::budget {

absl::Time PeriodStart(Period period, absl::Time t);
absl::Time PeriodEnd(Period period, absl::Time t);

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_PERIOD_H_
