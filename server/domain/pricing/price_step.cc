#include "server/domain/pricing/price_step.h"

#include <limits>
#include <utility>

namespace stepledger::domain::pricing {
namespace {

// Largest exact FemtoUsd total that still rounds into an int64 NanoUsd. Checking the running
// sum against it after every term keeps the __int128 sum far from its own limit: each term is
// below 2^126 and the sum before adding is below 2^84.
constexpr WideAmount kMaxTotalFemtoUsd =
    static_cast<WideAmount>(std::numeric_limits<NanoUsd>::max()) * kFemtoUsdPerNanoUsd;

bool IsToolKind(StepKind kind) {
  return kind == StepKind::kToolCall || kind == StepKind::kRetrieval || kind == StepKind::kRerank;
}

bool AnyNegative(const Usage& usage) {
  for (const std::optional<int64_t>* count :
       {&usage.input_uncached_tokens, &usage.cache_read_tokens, &usage.cache_write_tokens,
        &usage.output_tokens, &usage.reasoning_tokens}) {
    if (*count && **count < 0) return true;
  }
  return false;
}

PricingResult Unpriced(UnpricedReason reason, std::string version_id = "",
                       std::string priced_as = "") {
  PricingResult result;
  result.source = CostSource::kUnpriced;
  result.unpriced_reason = reason;
  result.price_version_id = std::move(version_id);
  result.priced_as = std::move(priced_as);
  return result;
}

}  // namespace

absl::string_view ToString(CostSource source) {
  switch (source) {
    case CostSource::kReported:
      return "reported";
    case CostSource::kComputed:
      return "computed";
    case CostSource::kUnpriced:
      return "unpriced";
  }
  return "";
}

absl::string_view ToString(UnpricedReason reason) {
  switch (reason) {
    case UnpricedReason::kNone:
      return "";
    case UnpricedReason::kNoPriceVersion:
      return "no_price_version";
    case UnpricedReason::kUnknownModel:
      return "unknown_model";
    case UnpricedReason::kMissingUsage:
      return "missing_usage";
    case UnpricedReason::kInvalidUsage:
      return "invalid_usage";
    case UnpricedReason::kUnknownTier:
      return "unknown_tier";
    case UnpricedReason::kUnknownTool:
      return "unknown_tool";
    case UnpricedReason::kMissingUnits:
      return "missing_units";
    case UnpricedReason::kNothingToPrice:
      return "nothing_to_price";
    case UnpricedReason::kOverflow:
      return "overflow";
  }
  return "";
}

PricingInput MakePricingInput(const Step& step, absl::Time received_at) {
  PricingInput input;
  input.kind = step.kind;
  input.provider = step.provider;
  input.model = step.model;
  input.usage = step.usage;
  input.reported_cost_nano_usd = step.cost_nano_usd;
  input.tool_name = step.tool_name;
  input.occurred_at = step.started_at.value_or(step.ended_at.value_or(received_at));
  return input;
}

ModelQuoteResult QuoteModel(const ModelPrice& price, const Usage& usage, ServiceTier tier,
                            StepKind kind) {
  ModelQuoteResult result;
  if (AnyNegative(usage)) {
    result.unpriced_reason = UnpricedReason::kInvalidUsage;
    return result;
  }
  bool output_required = kind != StepKind::kEmbedding;
  if (!usage.input_uncached_tokens || (output_required && !usage.output_tokens)) {
    result.unpriced_reason = UnpricedReason::kMissingUsage;
    return result;
  }
  ModelQuote quote;
  quote.input_uncached_tokens = *usage.input_uncached_tokens;
  quote.cache_read_tokens = usage.cache_read_tokens.value_or(0);
  quote.cache_write_tokens = usage.cache_write_tokens.value_or(0);
  quote.output_tokens = usage.output_tokens.value_or(0);
  quote.reasoning_tokens = usage.reasoning_tokens.value_or(0);

  // Summed in __int128: three int64 counts cannot overflow it.
  WideAmount total_input = static_cast<WideAmount>(quote.input_uncached_tokens) +
                           quote.cache_read_tokens + quote.cache_write_tokens;
  int64_t threshold_input = total_input > std::numeric_limits<int64_t>::max()
                                ? std::numeric_limits<int64_t>::max()
                                : static_cast<int64_t>(total_input);
  std::optional<ResolvedRates> rates = ResolveRates(price, tier, threshold_input);
  if (!rates) {
    result.unpriced_reason = UnpricedReason::kUnknownTier;
    return result;
  }
  quote.rates = *rates;

  WideAmount total = 0;
  for (auto [tokens, rate] : {std::pair{quote.input_uncached_tokens, rates->input},
                              std::pair{quote.cache_read_tokens, rates->cache_read},
                              std::pair{quote.cache_write_tokens, rates->cache_write},
                              std::pair{quote.output_tokens, rates->output},
                              std::pair{quote.reasoning_tokens, rates->reasoning}}) {
    total += static_cast<WideAmount>(tokens) * rate;
    if (total > kMaxTotalFemtoUsd) {
      result.unpriced_reason = UnpricedReason::kOverflow;
      return result;
    }
  }
  quote.total_femto_usd = total;
  std::optional<NanoUsd> cost = RoundToNanoUsdHalfUp(total, /*scale_digits=*/6);
  if (!cost) {
    result.unpriced_reason = UnpricedReason::kOverflow;
    return result;
  }
  quote.cost_nano_usd = *cost;
  result.quote = quote;
  return result;
}

ToolQuoteResult QuoteTool(const ToolPrice& price, std::optional<int64_t> units) {
  ToolQuoteResult result;
  if (units && *units < 0) {
    result.unpriced_reason = UnpricedReason::kInvalidUsage;
    return result;
  }
  // In 1e-18 USD (FemtoUsd / 1000) so that units * per_1k / 1000 stays exact.
  WideAmount total = static_cast<WideAmount>(price.per_call) * 1000;
  if (price.per_1k_units != 0) {
    if (!units) {
      result.unpriced_reason = UnpricedReason::kMissingUnits;
      return result;
    }
    total += static_cast<WideAmount>(*units) * price.per_1k_units;
  }
  result.cost_nano_usd = RoundToNanoUsdHalfUp(total, /*scale_digits=*/9);
  if (!result.cost_nano_usd) result.unpriced_reason = UnpricedReason::kOverflow;
  return result;
}

PricingResult PriceStep(const PriceBook& book, const PricingInput& input) {
  if (input.reported_cost_nano_usd) {
    PricingResult result;
    result.cost_nano_usd = input.reported_cost_nano_usd;
    result.source = CostSource::kReported;
    return result;
  }
  const PriceVersion* version = book.VersionAt(input.occurred_at);
  if (version == nullptr) return Unpriced(UnpricedReason::kNoPriceVersion);

  bool is_tool = !input.tool_name.empty() && (IsToolKind(input.kind) || input.model.empty());
  if (is_tool) {
    const ToolPrice* tool = version->FindTool(input.tool_name);
    if (tool == nullptr) return Unpriced(UnpricedReason::kUnknownTool, version->id);
    ToolQuoteResult quote = QuoteTool(*tool, input.units);
    if (!quote.cost_nano_usd) return Unpriced(quote.unpriced_reason, version->id, tool->name);
    PricingResult result;
    result.cost_nano_usd = quote.cost_nano_usd;
    result.source = CostSource::kComputed;
    result.price_version_id = version->id;
    result.priced_as = tool->name;
    return result;
  }
  if (input.model.empty()) return Unpriced(UnpricedReason::kNothingToPrice, version->id);
  const ModelPrice* model = version->FindModel(input.provider, input.model);
  if (model == nullptr) return Unpriced(UnpricedReason::kUnknownModel, version->id);
  ModelQuoteResult quote = QuoteModel(*model, input.usage, input.tier, input.kind);
  if (!quote.quote) return Unpriced(quote.unpriced_reason, version->id, model->name);
  PricingResult result;
  result.cost_nano_usd = quote.quote->cost_nano_usd;
  result.source = CostSource::kComputed;
  result.price_version_id = version->id;
  result.priced_as = model->name;
  return result;
}

}  // namespace stepledger::domain::pricing
