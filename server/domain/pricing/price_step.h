// Prices one step: turns a step's usage (or tool units) into nano-USD with the price version
// in force when the step occurred, and says where the number came from.
//
// Rules, in order:
//  1. A reported cost (the gateway's cost_nano_usd) always wins: source = reported, and no
//     catalog is consulted.
//  2. The version in force at occurred_at (PriceBook::VersionAt) prices the step. None in force
//     -> unpriced (no_price_version).
//  3. Tool steps (kind tool_call, retrieval or rerank with a tool_name, or any kind with a
//     tool_name and no model) are priced from the tool catalog: per_call + units * per_1k / 1000.
//     Unknown tool -> unpriced (unknown_tool); a tool billed per unit with units absent ->
//     unpriced (missing_units).
//  4. Other steps with a model are priced from the model catalog (lookup rule in price_book.h).
//     Unknown model -> unpriced (unknown_model); a non-standard tier the model has no rates
//     for -> unpriced (unknown_tier). No model and no tool -> unpriced (nothing_to_price).
//
// Absent usage is unknown, never zero. A model step is priced only when its primary buckets
// are known: input_uncached_tokens, and output_tokens unless the step is an embedding (which
// has no output). Otherwise it is unpriced (missing_usage), never $0. When the primary buckets
// are known, an absent secondary bucket (cache_read, cache_write, reasoning) is taken as 0:
// providers omit those counts when nothing was cached or reasoned, and the primary counts
// already hold every other token (the wire's buckets are disjoint: Usage in steps.proto). A
// negative count -> unpriced (invalid_usage).
//
// Context threshold: total input = input_uncached + cache_read + cache_write (every token of
// the prompt, as providers count it for long-context pricing). When it is strictly greater
// than a threshold the model has (200000 for `..._above_200k_tokens`), that band's rates apply
// to ALL buckets of the call, output and reasoning included, as Anthropic, OpenAI and Google
// bill long-context requests. Exactly at the threshold the base rates apply.
//
// Arithmetic: tokens * FemtoUsd-per-token products are summed exactly in __int128 and the
// step's total is rounded once to nano-USD, half-up (money.h). A total above INT64_MAX nano-USD
// -> unpriced (overflow).
//
// Thread safety: pure functions over immutable inputs.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_STEP_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_STEP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/pricing/model_price.h"
#include "server/domain/pricing/money.h"
#include "server/domain/pricing/price_book.h"
#include "server/domain/pricing/service_tier.h"
#include "server/domain/pricing/tool_price.h"
#include "server/domain/step.h"

namespace stepledger::domain::pricing {

enum class CostSource { kReported, kComputed, kUnpriced };

enum class UnpricedReason {
  kNone,            // the step has a cost
  kNoPriceVersion,  // no price version in force at occurred_at
  kUnknownModel,    // model not in the version in force
  kMissingUsage,    // primary usage buckets absent
  kInvalidUsage,    // a negative token or unit count
  kUnknownTier,     // the model has no rates for the requested service tier
  kUnknownTool,     // tool not in the version in force
  kMissingUnits,    // tool billed per unit, units absent
  kNothingToPrice,  // neither a model nor a tool name
  kOverflow,        // cost exceeds INT64_MAX nano-USD
};

// "reported", "computed", "unpriced".
absl::string_view ToString(CostSource source);
// Stable snake_case names stored with unpriced steps and used as metric labels (a closed set):
// "unknown_model", "missing_usage", ...; "" for kNone.
absl::string_view ToString(UnpricedReason reason);

// What pricing needs to know about a step.
struct PricingInput {
  StepKind kind = StepKind::kOther;
  std::string provider;
  std::string model;
  Usage usage;
  std::optional<NanoUsd> reported_cost_nano_usd;
  std::string tool_name;
  std::optional<int64_t> units;  // tool units (documents, read units, seconds, ...)
  ServiceTier tier = ServiceTier::kStandard;
  absl::Time occurred_at = absl::InfinitePast();
};

// Copies the step's pricing fields. occurred_at is started_at, else ended_at, else
// `received_at`. Tier (standard) and units (absent) are left for the caller to set: Step does
// not carry them yet.
PricingInput MakePricingInput(const Step& step, absl::Time received_at);

struct PricingResult {
  std::optional<NanoUsd> cost_nano_usd;  // set unless source is kUnpriced
  CostSource source = CostSource::kUnpriced;
  std::string price_version_id;  // version consulted; empty for reported or no version
  UnpricedReason unpriced_reason = UnpricedReason::kNone;
  std::string priced_as;  // catalog model or tool name that matched; empty if none
};

PricingResult PriceStep(const PriceBook& book, const PricingInput& input);

// The detail of one model cost, for `stepledger prices quote` and tests.
struct ModelQuote {
  ResolvedRates rates;
  // Counts used, absent secondary buckets as 0.
  int64_t input_uncached_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
  WideAmount total_femto_usd = 0;  // exact, before rounding
  NanoUsd cost_nano_usd = 0;       // rounded once, half-up
};

struct ModelQuoteResult {
  std::optional<ModelQuote> quote;
  UnpricedReason unpriced_reason = UnpricedReason::kNone;  // set when quote is absent
};

// Applies the usage, threshold and rounding rules above to one model price.
ModelQuoteResult QuoteModel(const ModelPrice& price, const Usage& usage, ServiceTier tier,
                            StepKind kind);

struct ToolQuoteResult {
  std::optional<NanoUsd> cost_nano_usd;
  UnpricedReason unpriced_reason = UnpricedReason::kNone;  // set when cost is absent
};

// per_call + units * per_1k_units / 1000, exact in 1e-18 USD, rounded once half-up.
ToolQuoteResult QuoteTool(const ToolPrice& price, std::optional<int64_t> units);

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_STEP_H_
