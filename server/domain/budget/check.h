// The CheckBudget question and answer, as domain types (the transport converts to and from
// CheckBudgetRequest / CheckBudgetResponse).
//
// Thread safety: plain values. A CapStatus shares its (immutable) Cap with the engine.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_CHECK_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_CHECK_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/decision.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

struct CheckRequest {
  Tags tags;
  NanoUsd estimated_cost_nano_usd = 0;
  // Hold the estimate against every counter the step will be charged to, until RecordSpend
  // settles it (by step_id) or the reservation TTL passes.
  bool reserve = false;
  std::string step_id;            // Required with reserve.
  std::optional<absl::Time> now;  // When unset, the engine's Clock.
};

// One matching cap's state as the check saw it. Money in nano-USD.
struct CapStatus {
  std::shared_ptr<const Cap> cap;  // Owner, scope, key, limit, shadow flag, ...
  NanoUsd spent = 0;               // Committed spend in the current period, all replicas.
  NanoUsd reserved = 0;            // Held by open reservations (this check's own excluded).
  // Unused headroom of the active acknowledgements of a REQUIRE_ACK cap (always 0 for an
  // alert-only cap, which acknowledgements do not change).
  NanoUsd acknowledged_headroom = 0;
  // The largest estimate that stays within the limit: limit - spent - reserved; for a
  // REQUIRE_ACK cap with live acknowledged headroom, the largest that the headroom still
  // covers: max(limit, spent) - spent - reserved + acknowledged_headroom. Negative: over.
  NanoUsd remaining = 0;
  NanoUsd burn_rate_per_hour = 0;  // Spend that occurred in the last 60 minutes.
  // When `remaining` runs out at the current burn rate; nullopt: not within this period.
  std::optional<absl::Time> projected_exhaustion;
  absl::Time period_start;
  absl::Time period_end;                 // Exclusive: the counter resets at this instant.
  Decision decision = Decision::kAllow;  // This cap's own decision (even when shadow).
  // The counters were stale and the cap's stale policy, not its figures, set `decision`.
  bool stale_policy_applied = false;
};

struct CheckResult {
  // The strongest decision over the enforced (non-shadow) caps; ALLOW when none matched.
  Decision decision = Decision::kAllow;
  // The cap that decided, when the decision is not ALLOW; ties go to the broader-ranked tier
  // (org, team, tenant, feature), then the smaller cap id.
  Scope deciding_scope = Scope::kUnspecified;
  std::string deciding_cap_id;
  std::string reservation_id;   // Set when a reservation was made.
  std::vector<CapStatus> caps;  // Every matching cap, shadow ones included.
  // When the engine's counters last took every replica's spend from storage (nullopt: never),
  // and how old that was at the check's `now`. This replica's own commits are always counted.
  std::optional<absl::Time> counters_as_of;
  absl::Duration counters_age;
  // counters_age is past the engine's stale limit (or the counters were never read): every
  // cap's decision went through its stale policy (StaleDecision).
  bool stale = false;
};

// OK, or InvalidArgument naming the field. In production every one of the six tags is required
// and feature/team/tenant must have their tag form; elsewhere a missing feature, team or tenant
// (the "(unattributed)" bucket) simply matches no cap of that tier. The estimate must be in
// [0, kMaxLimitNanoUsd]; reserve requires a step_id.
absl::Status ValidateCheckRequest(const CheckRequest& request);

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_CHECK_H_
