// Exact-integer money units for pricing, and the one rounding step from them to NanoUsd.
//
// Prices in catalogs are decimal USD per token (LiteLLM writes 2.5e-06). Binary floating point
// cannot hold most of them exactly, so every price is held as an integer count of FemtoUsd
// (1e-15 USD). A per-token price in FemtoUsd is numerically "nano-USD per million tokens":
// 2.5e-06 USD/token == 2'500'000'000 FemtoUsd/token. Every per-token price in the shipped
// LiteLLM map converts exactly (checked by the loader, which rejects any that does not).
//
// Rounding rule: products tokens * price are summed exactly in __int128 FemtoUsd (or finer),
// and the total of one step is rounded ONCE to NanoUsd, half-up (ties away from zero; all
// amounts here are non-negative). Per-bucket amounts are never rounded on their own.
//
// Thread safety: pure functions and plain values.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_MONEY_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_MONEY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/step.h"

namespace stepledger::domain::pricing {

// 1e-15 USD. Used for unit prices (per token, per call, per 1000 units).
using FemtoUsd = int64_t;
inline constexpr int64_t kFemtoUsdPerNanoUsd = 1'000'000;
inline constexpr int64_t kFemtoUsdPerUsd = 1'000'000'000'000'000;

// Exact wide accumulator for sums of products of two int64 values.
using WideAmount = __int128;

// Parses a non-negative decimal USD amount written as a JSON number ("0.0025", "2.5e-06",
// "3", "1E-7") into FemtoUsd, exactly. Fails with InvalidArgument when the text is not a
// number, is negative, has a non-zero digit finer than 1e-15 USD, or exceeds INT64_MAX FemtoUsd.
// Never goes through floating point.
absl::StatusOr<FemtoUsd> ParseUsdDecimal(absl::string_view text);

// Formats FemtoUsd as plain decimal USD without exponent or trailing zeros ("0.0000025").
std::string FormatFemtoUsd(FemtoUsd amount);

// Rounds a non-negative amount given in units of 10^-(9 + scale_digits) USD to NanoUsd,
// half-up. Returns nullopt when the amount is negative or the result exceeds INT64_MAX.
// scale_digits is 6 for FemtoUsd and 9 for 1e-18 USD.
// REQUIRES: 0 <= scale_digits <= 18.
std::optional<NanoUsd> RoundToNanoUsdHalfUp(WideAmount amount, int scale_digits);

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_MONEY_H_
