// The pieces of `stepledger budget` that are pure functions, kept apart so they are unit tested
// without a collector: the declarative cap file (docs/BUDGETS.md, "Cap files") and the names
// used on the command line. What a cap means (defaults by tier, validity) is the collector's
// alone: `budget apply` asks it with PutBudget validate_only.
//
// Money: dollars are parsed by money.h's ParseDollars. A JSON number in a cap file is accepted
// when its shortest round-trip form has at most 15 significant digits (then it is exactly the
// decimal that was written); write longer amounts as strings.
//
// Thread safety: stateless.
#ifndef STEPLEDGER_CLIENT_CLI_BUDGET_FILE_H_
#define STEPLEDGER_CLIENT_CLI_BUDGET_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "stepledger/v1/budget.pb.h"

namespace stepledger::client {

// Alert threshold in percent ("80", "82.5", "100") -> basis points, exactly: 1..10000, at most
// two decimals.
absl::StatusOr<int32_t> ParseThresholdPct(std::string_view text);
// 8000 -> "80", 8250 -> "82.5".
std::string FormatThresholdPct(int32_t bps);

// "24h", "90m", "7d", "1h30m", "45s" -> a positive duration ('d' is 24 hours).
absl::StatusOr<absl::Duration> ParseExpiresIn(std::string_view text);

// Command-line / file names of the enums: feature|team|tenant|org, daily|monthly,
// alert|require_ack, production|staging|eval, interactive|batch|eval|background.
absl::StatusOr<stepledger::v1::Scope> ParseScopeName(std::string_view text);
absl::StatusOr<stepledger::v1::Period> ParsePeriodName(std::string_view text);
absl::StatusOr<stepledger::v1::CapAction> ParseActionName(std::string_view text);
// answer, alert, require_ack (or "default": the action's default).
absl::StatusOr<stepledger::v1::StalePolicy> ParseStalePolicyName(std::string_view text);
absl::StatusOr<stepledger::v1::Environment> ParseEnvironmentName(std::string_view text);
absl::StatusOr<stepledger::v1::WorkloadClass> ParseWorkloadClassName(std::string_view text);
std::string ScopeName(stepledger::v1::Scope v);  // "" when unspecified
std::string PeriodName(stepledger::v1::Period v);
std::string ActionName(stepledger::v1::CapAction v);         // "default" when unspecified
std::string StalePolicyName(stepledger::v1::StalePolicy v);  // "default" when unspecified
std::string CapEnvironmentName(stepledger::v1::Environment v);
std::string DecisionName(stepledger::v1::Decision v);  // "ALLOW", "ALERT", "REQUIRE_ACK"

// Parses a cap file:
//   {"caps": [{"id": "team-search-monthly", "scope": "team", "key": "search",
//              "environment": "production", "period": "monthly", "limit_usd": "5000",
//              "action": "require_ack", "threshold_pct": 80, "owner": "search-leads",
//              "signed_off_by": "cfo@example.com", "shadow": false, "note": "..."}]}
// Required: id, scope, key (except org), period, limit_usd, owner; signed_off_by unless shadow
// (the collector's rule, checked when the file is applied).
// Unknown fields are errors (a typo in a cap file must not silently drop a limit); "note" is
// free text, ignored. Names, amounts and ids (unique) are checked here; the cap rules by the
// collector. Errors name the place: "caps[2].limit_usd: ...".
absl::StatusOr<std::vector<stepledger::v1::Cap>> ParseBudgetFile(std::string_view text);

// The caps in the file format above (sorted by id), so `budget list --json > caps.json` gives
// a file that `budget apply` accepts. REQUIRES: the caps as the collector returns them
// (defaults filled in).
std::string FormatBudgetFile(const std::vector<stepledger::v1::Cap>& caps);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_BUDGET_FILE_H_
