// Per-token prices of one model, by service tier and context-size band, and the rule that
// picks the rate for each usage bucket.
//
// All rates are FemtoUsd per token (1e-15 USD/token == nano-USD per million tokens).
//
// Invariants (established by the catalog loader, relied on by ResolveRates):
//  - tiers[kStandard] exists and its base has input and output rates.
//  - every rate is >= 0.
//  - above_threshold keys are > 0.
//
// Thread safety: plain values; immutable once inside a PriceVersion.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_MODEL_PRICE_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_MODEL_PRICE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "server/domain/pricing/money.h"
#include "server/domain/pricing/service_tier.h"

namespace stepledger::domain::pricing {

// Rates for one (tier, context band). nullopt = the catalog gives no rate for this bucket at
// this level; ResolveRates then falls back (see below). A present 0 is a real free rate.
struct TokenRates {
  std::optional<FemtoUsd> input;        // uncached input tokens
  std::optional<FemtoUsd> output;       // visible output tokens
  std::optional<FemtoUsd> cache_read;   // tokens read from the prompt cache
  std::optional<FemtoUsd> cache_write;  // tokens written to the cache (default, 5-minute TTL)
  // Anthropic's 1-hour cache writes. Kept for display; Usage does not split cache writes by
  // TTL, so PriceStep prices every cache write at `cache_write`.
  std::optional<FemtoUsd> cache_write_1h;
  std::optional<FemtoUsd> reasoning;  // reasoning tokens, when billed apart from output
};

struct TierPrices {
  TokenRates base;
  // Rates that apply when a call's total input tokens (uncached + cache read + cache write)
  // are strictly greater than the key, e.g. 200000 for LiteLLM's `..._above_200k_tokens`.
  std::map<int64_t, TokenRates> above_threshold;
};

struct ModelPrice {
  std::string name;      // catalog key, e.g. "gpt-4o"
  std::string provider;  // catalog's provider, e.g. "openai" (informational)
  std::string mode;      // catalog's mode, e.g. "chat"
  std::map<ServiceTier, TierPrices> tiers;
};

// The rate used for each bucket of one call.
struct ResolvedRates {
  FemtoUsd input = 0;
  FemtoUsd output = 0;
  FemtoUsd cache_read = 0;
  FemtoUsd cache_write = 0;
  FemtoUsd reasoning = 0;
  // The context threshold whose band applied, if the call was above one.
  std::optional<int64_t> above_threshold_tokens;
};

// Picks the rate for every bucket of a call on `tier` with `total_input_tokens` input tokens.
//
// Levels are searched most specific first: the tier's bands whose threshold is below
// total_input_tokens (highest threshold first), then the tier's base, then (for a non-standard
// tier) the same for the standard tier. Each bucket takes the first level that has it, so a
// tier or band that only overrides some buckets inherits the rest. Then:
//  - cache_read / cache_write with no rate at any level use the input rate: a provider with no
//    cache discount bills those tokens as plain input (OpenAI bills cache writes that way).
//  - reasoning takes, at the first level that has either, the reasoning rate or else the
//    output rate, so long-context and tier output rates also apply to reasoning tokens.
//
// Returns nullopt when `tier` is not standard and the model has no input and output rates of
// its own for it: pricing such a call at another tier's rate would silently misprice it.
// REQUIRES: `price` satisfies the invariants above; total_input_tokens >= 0.
std::optional<ResolvedRates> ResolveRates(const ModelPrice& price, ServiceTier tier,
                                          int64_t total_input_tokens);

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_MODEL_PRICE_H_
