// Money as the `stepledger` CLI reads and prints it: the one dollar parser and the one nano-USD
// formatter of the client (the wire and the database carry int64 nano-USD; people type and read
// dollars). Everything is exact: decimal text to integers and back, never through floating
// point.
//
// Thread safety: stateless.
#ifndef STEPLEDGER_CLIENT_CLI_MONEY_H_
#define STEPLEDGER_CLIENT_CLI_MONEY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace stepledger::client {

inline constexpr int64_t kNanoUsdPerUsd = 1'000'000'000;

// "12", "12.5", "0.000000001", "$1,250.75" (a leading '$' and ',' thousands separators in the
// integer part are allowed) -> nano-USD. At most 9 decimals (a nano-dollar); more is an error,
// never rounded. Negative amounts, exponents and amounts above $1e9 are errors. Used for
// every dollar amount the CLI takes: cap limits, estimates, acknowledgements, invoices.
absl::StatusOr<int64_t> ParseDollars(std::string_view text);

// nano-USD as dollars with 2 to 9 decimals, trailing zeros beyond the cents dropped:
// 12500000000 -> "12.50", 1 -> "0.000000001", -5e9 -> "-5.00".
std::string FormatNanoUsd(int64_t nano_usd);

// The same with a dollar sign: "$12.50", "-$0.007632".
std::string Dollars(int64_t nano_usd);

// An amount in femto-USD (1e-15 USD, the unit of per-token rates) in dollars, exactly, with the
// significant digits only: 2500000000 -> "0.0000025". A femto-USD-per-token rate is the same
// number as nano-USD per million tokens, so Dollars(rate) prints the rate per 1M tokens.
std::string FormatFemtoUsd(int64_t femto_usd);

// 1234567 -> "1,234,567". REQUIRES: n >= 0 (counts of steps and runs).
std::string Count(int64_t n);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_MONEY_H_
