// The per-cap decision rule of CheckBudget, as a pure function shared by the live engine and
// the what-if replay so both answer identically.
//
// Rules (all arithmetic exact, in 128-bit integers; never floating point):
//   projected = spent + reserved + estimate, where reserved is every open reservation held
//   against the cap's counter (other steps in flight).
//   1. projected <= limit, and projected * 10000 >= threshold_bps * limit -> ALERT
//      ("exactly 80%" alerts; "exactly 100%" is still within the cap, so it ALERTs too).
//   2. projected <= limit, below the threshold                            -> ALLOW
//   3. projected >  limit (strictly over) -> the cap's action:
//        kAlert       -> ALERT
//        kRequireAck  -> REQUIRE_ACK, unless acknowledged: the part of the projection that is
//                        new spend past the limit, projected - max(spent, limit), fits in the
//                        remaining headroom of the cap's active acknowledgements (which must be
//                        > 0). Then the cap is judged against the acknowledged ceiling
//                        limit + granted headroom: ALERT at or past the threshold of that
//                        ceiling, ALLOW below it.
//   Spend that is already past the limit is history: it has consumed headroom (or went past
//   the limit unacknowledged); an acknowledgement only has to cover what comes next.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_DECISION_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_DECISION_H_

#include <string_view>

#include "server/domain/budget/cap.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

// Ordered: a larger value is a stronger decision, and the strongest over all caps wins.
enum class Decision { kAllow = 0, kAlert = 1, kRequireAck = 2 };
std::string_view ToString(Decision v);

// What a cap's acknowledgements grant at one instant (only active, unexpired ones count).
struct AckHeadroom {
  NanoUsd granted = 0;    // Sum of extra_headroom of the active acknowledgements.
  NanoUsd remaining = 0;  // granted minus what spend past the limit has consumed of it.
};

// REQUIRES: spent, reserved, estimate >= 0; cap passed ValidateCap().
Decision DecideCap(const Cap& cap, NanoUsd spent, NanoUsd reserved, NanoUsd estimate,
                   const AckHeadroom& ack);

// A cap's decision from stale counters: its figures' decision, raised to the policy's floor
// (kAnswer: none; kAlert: ALERT; kRequireAck: REQUIRE_ACK). Never lower than the figures'.
Decision StaleDecision(StalePolicy policy, Decision from_figures);

// How much of the growth of a counter from `before` to `after` lies past `limit`: the amount of
// acknowledged headroom that growth consumes.
NanoUsd PastLimitGrowth(NanoUsd limit, NanoUsd before, NanoUsd after);

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_DECISION_H_
