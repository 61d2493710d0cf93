// The pieces of `stepledger budget` that are pure functions, kept apart so they are unit tested
// without a collector: exact dollar parsing, the declarative cap file (docs/BUDGETS.md, "Cap
// files"), the names used on the command line, and how a cap looks once the service has filled
// in its defaults (so `budget apply` can tell "unchanged" from "updated").
//
// Money: dollars are parsed from their decimal text into int64 nano-USD exactly, never through
// floating point. A JSON number in a cap file is accepted when its shortest round-trip form has
// at most 15 significant digits (then it is exactly the decimal that was written); write longer
// amounts as strings.
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
#include "server/domain/budget/cap.h"
#include "stepledger/v1/budget.pb.h"

namespace stepledger::client {

// "12", "12.5", "0.000000001", "$1,250.75" (a leading '$' and ',' thousands separators in the
// integer part are allowed) -> nano-USD. At most 9 decimals (a nano-dollar); more is an error,
// never rounded. Negative amounts, exponents and amounts above $1e9 are errors.
absl::StatusOr<int64_t> ParseDollars(std::string_view text);

// nano-USD as dollars with 2 to 9 decimals, trailing zeros beyond the cents dropped:
// 12500000000 -> "12.50", 1 -> "0.000000001", -5e9 -> "-5.00".
std::string FormatNanoUsd(int64_t nano_usd);

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
absl::StatusOr<stepledger::v1::Environment> ParseEnvironmentName(std::string_view text);
absl::StatusOr<stepledger::v1::WorkloadClass> ParseWorkloadClassName(std::string_view text);
std::string ScopeName(stepledger::v1::Scope v);  // "" when unspecified
std::string PeriodName(stepledger::v1::Period v);
std::string ActionName(stepledger::v1::CapAction v);  // "default" when unspecified
std::string CapEnvironmentName(stepledger::v1::Environment v);
std::string DecisionName(stepledger::v1::Decision v);  // "ALLOW", "ALERT", "REQUIRE_ACK"

// The cap as a domain value, with the tier defaults applied (action by scope, "*" for org,
// production, 80%) and checked by the same ValidateCap() as the service. Errors are
// InvalidArgument naming the field.
absl::StatusOr<domain::budget::Cap> ToDomainCap(const stepledger::v1::Cap& cap);
// The cap as ListBudgets returns it once stored: defaults filled in. REQUIRES: ToDomainCap ok.
stepledger::v1::Cap NormalizeCap(const stepledger::v1::Cap& cap);
// Field-by-field equality of two caps after NormalizeCap().
bool SameCap(const stepledger::v1::Cap& a, const stepledger::v1::Cap& b);

// Parses a cap file:
//   {"caps": [{"id": "team-search-monthly", "scope": "team", "key": "search",
//              "environment": "production", "period": "monthly", "limit_usd": "5000",
//              "action": "require_ack", "threshold_pct": 80, "owner": "search-leads",
//              "signed_off_by": "cfo@example.com", "shadow": false, "note": "..."}]}
// Required: id, scope, key (except org), period, limit_usd, owner; signed_off_by unless shadow.
// Unknown fields are errors (a typo in a cap file must not silently drop a limit); "note" is
// free text, ignored. Every cap is validated as the service would (ToDomainCap) and ids must be
// unique, so a file is accepted or refused as a whole. Errors name the place: "caps[2].limit_usd:
// ...".
absl::StatusOr<std::vector<stepledger::v1::Cap>> ParseBudgetFile(std::string_view text);

// The caps in the file format above (normalized, sorted by id), so `budget list --json >
// caps.json` gives a file that `budget apply` accepts.
std::string FormatBudgetFile(const std::vector<stepledger::v1::Cap>& caps);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_BUDGET_FILE_H_
