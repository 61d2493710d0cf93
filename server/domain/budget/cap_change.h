// Which way a cap change moves enforcement: the rule behind the sign-off flow
// (docs/BUDGETS.md, "Sign-off"). A change in the safe direction may take effect at once (an
// operator can stop a runaway without waiting for anyone); a change that loosens an enforced
// cap waits for a second credential's approval.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_CHANGE_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_CHANGE_H_

#include <string>
#include <vector>

#include "server/domain/budget/cap.h"

namespace stepledger::domain::budget {

enum class ChangeEffect {
  kNone,     // The settings are the same (sign-off, revision and author aside).
  kSafe,     // Enforces as much or more, or the cap enforces nothing (shadow) before and after.
  kLoosens,  // Some part weakens what an enforced cap enforces.
};

struct CapChangeClass {
  ChangeEffect effect = ChangeEffect::kNone;
  // One line per changed setting, e.g. "limit_nano_usd 100 -> 200 (loosens)", in field order.
  std::vector<std::string> changes;
};

// `before` null: the cap is new; `after` null: the cap is deleted. Both defaulted
// (ApplyCapDefaults). A change loosens when `before` is enforced (not shadow) and any of:
// higher limit; action require_ack -> alert; higher alert threshold; a weaker stale policy
// (require_ack > alert > answer); enforced -> shadow; a different scope, key, environment or
// period (it stops watching what it watched); a different owner (it re-routes who is told);
// the delete itself. Anything else is safe: a new cap, a lower limit, a stricter action, a
// lower threshold, a stricter stale policy, shadow -> enforced, any change to a shadow cap.
CapChangeClass ClassifyCapChange(const Cap* before, const Cap* after);

// The settings of two caps are equal (signed_off_by, revision and changed_by aside).
bool SameSettings(const Cap& a, const Cap& b);

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_CHANGE_H_
