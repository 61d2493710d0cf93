// What-if: replays past steps, in time order, against proposed caps, and reports how many steps,
// distinct runs and dollars would have hit ALERT or REQUIRE_ACK, overall, per team, per feature
// and per cap, before a cap goes live (`stepledger budget whatif`).
//
// Model: counters start from zero at the first step and roll over with the calendar exactly as
// live counters do (a new period is a new counter). Each step is checked with its actual cost
// as the estimate, by the same DecideCap() as CheckBudget, then charged. The replay assumes what
// actually happened: a step flagged REQUIRE_ACK is still charged (the agent did not stop), no
// reservations are in flight and no acknowledgements exist. Every proposed cap is judged as if
// enforced, whatever its shadow flag, since showing its effect is the point.
//
// Thread safety: a pure function.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_WHAT_IF_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_WHAT_IF_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/domain/budget/cap.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

// One ledger row as the replay needs it: the charged tags (environment included; the run is
// tags.parent_run_id), the cost and when it occurred.
struct HistoricalStep {
  Tags tags;
  NanoUsd cost_nano_usd = 0;
  absl::Time occurred_at;
};

struct WhatIfTally {
  int64_t steps = 0;
  int64_t runs = 0;  // Distinct parent_run_ids among those steps.
  NanoUsd cost_nano_usd = 0;
};

// A step counts in exactly one of these: the strongest decision the proposed caps gave it.
struct WhatIfRow {
  WhatIfTally alert;
  WhatIfTally require_ack;
};

struct WhatIfReport {
  WhatIfTally replayed;  // Every step replayed.
  WhatIfRow total;
  std::map<std::string, WhatIfRow> by_team;     // Only teams with a flagged step.
  std::map<std::string, WhatIfRow> by_feature;  // Only features with a flagged step.
  std::map<std::string, WhatIfRow> by_cap;      // Each cap's own decision, by cap id.
};

// InvalidArgument naming the field for an invalid proposed cap ("caps[i].<field>"), a negative
// cost, or a history that is not ordered by occurred_at.
absl::StatusOr<WhatIfReport> WhatIf(absl::Span<const Cap> proposed_caps,
                                    absl::Span<const HistoricalStep> history);

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_WHAT_IF_H_
