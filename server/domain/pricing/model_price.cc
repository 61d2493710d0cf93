#include "server/domain/pricing/model_price.h"

#include <vector>

namespace stepledger::domain::pricing {
namespace {

struct Level {
  const TokenRates* rates;
  std::optional<int64_t> threshold;  // set for above-threshold bands
};

void AppendTierLevels(const TierPrices& tier, int64_t total_input_tokens,
                      std::vector<Level>* levels) {
  for (auto it = tier.above_threshold.rbegin(); it != tier.above_threshold.rend(); ++it) {
    if (total_input_tokens > it->first) levels->push_back({&it->second, it->first});
  }
  levels->push_back({&tier.base, std::nullopt});
}

std::optional<FemtoUsd> First(const std::vector<Level>& levels,
                              std::optional<FemtoUsd> TokenRates::*field) {
  for (const Level& level : levels) {
    if (level.rates->*field) return level.rates->*field;
  }
  return std::nullopt;
}

}  // namespace

std::optional<ResolvedRates> ResolveRates(const ModelPrice& price, ServiceTier tier,
                                          int64_t total_input_tokens) {
  std::vector<Level> levels;
  auto own = price.tiers.find(tier);
  if (tier != ServiceTier::kStandard) {
    if (own == price.tiers.end() || !own->second.base.input || !own->second.base.output) {
      return std::nullopt;
    }
    AppendTierLevels(own->second, total_input_tokens, &levels);
  }
  auto standard = price.tiers.find(ServiceTier::kStandard);
  if (standard != price.tiers.end()) {
    AppendTierLevels(standard->second, total_input_tokens, &levels);
  }

  ResolvedRates rates;
  // The loader guarantees standard input and output, so these always resolve; value_or(0)
  // only guards a hand-built ModelPrice that breaks the invariant.
  rates.input = First(levels, &TokenRates::input).value_or(0);
  rates.output = First(levels, &TokenRates::output).value_or(0);
  rates.cache_read = First(levels, &TokenRates::cache_read).value_or(rates.input);
  rates.cache_write = First(levels, &TokenRates::cache_write).value_or(rates.input);
  rates.reasoning = rates.output;
  for (const Level& level : levels) {
    if (level.rates->reasoning || level.rates->output) {
      rates.reasoning = level.rates->reasoning ? *level.rates->reasoning : *level.rates->output;
      break;
    }
  }
  for (const Level& level : levels) {
    if (level.threshold) {
      rates.above_threshold_tokens = level.threshold;
      break;
    }
  }
  return rates;
}

}  // namespace stepledger::domain::pricing
