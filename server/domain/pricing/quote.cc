#include "server/domain/pricing/quote.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace stepledger::domain::pricing {

absl::StatusOr<CallQuote> QuoteCall(const PriceVersion& version, std::string_view provider,
                                    std::string_view model, const std::optional<Usage>& usage,
                                    std::string_view tier_name) {
  if (model.empty()) return absl::InvalidArgumentError("model: required");
  const std::string tier_text = tier_name.empty() ? "standard" : std::string(tier_name);
  const std::optional<ServiceTier> tier = ParseServiceTier(tier_text);
  if (!tier.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tier: expected standard, batch, priority or flex, got \"", tier_text, "\""));
  }
  CallQuote quote;
  quote.tier = *tier;
  quote.price = version.FindModel(std::string(provider), std::string(model));
  if (quote.price == nullptr) {
    return absl::NotFoundError(absl::StrCat("model: \"", std::string(model), "\" is not in ",
                                            version.id,
                                            " (a step with it is stored unpriced: unknown_model)"));
  }
  if (!usage.has_value()) return quote;
  for (const std::optional<int64_t>& count :
       {usage->input_uncached_tokens, usage->cache_read_tokens, usage->cache_write_tokens,
        usage->output_tokens, usage->reasoning_tokens}) {
    if (count.value_or(0) < 0) return absl::InvalidArgumentError("usage: negative count");
  }
  const StepKind kind =
      quote.price->mode == "embedding" ? StepKind::kEmbedding : StepKind::kModelCall;
  quote.result = QuoteModel(*quote.price, *usage, *tier, kind);
  return quote;
}

}  // namespace stepledger::domain::pricing
