// The LiteLLM model price map loader (server/catalog/litellm_price_map.h). Properties: every
// model it accepts meets ModelPrice's invariants (a standard tier with input and output rates,
// no negative rate, thresholds above 0), which ResolveRates relies on; ResolveRates then runs
// on it without trouble.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "server/catalog/litellm_price_map.h"

namespace {

using stepledger::domain::pricing::FemtoUsd;
using stepledger::domain::pricing::TokenRates;

[[noreturn]] void Broken(const std::string& model, const char* what) {
  std::fprintf(stderr, "price map accepted model \"%s\" breaking an invariant: %s\n", model.c_str(),
               what);
  std::abort();
}

void CheckRates(const std::string& model, const TokenRates& r) {
  for (const std::optional<FemtoUsd>& rate :
       {r.input, r.output, r.cache_read, r.cache_write, r.cache_write_1h, r.reasoning}) {
    if (rate.has_value() && *rate < 0) Broken(model, "negative rate");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<stepledger::catalog::LiteLlmPriceMap> map =
      stepledger::catalog::LoadLiteLlmPriceMap(text);
  if (!map.ok()) return 0;
  using stepledger::domain::pricing::ServiceTier;
  for (const auto& [name, price] : map->models) {
    auto standard = price.tiers.find(ServiceTier::kStandard);
    if (standard == price.tiers.end()) Broken(name, "no standard tier");
    if (!standard->second.base.input.has_value() || !standard->second.base.output.has_value()) {
      Broken(name, "standard tier without input and output rates");
    }
    for (const auto& [tier, prices] : price.tiers) {
      CheckRates(name, prices.base);
      for (const auto& [threshold, rates] : prices.above_threshold) {
        if (threshold <= 0) Broken(name, "threshold not above 0");
        CheckRates(name, rates);
        (void)stepledger::domain::pricing::ResolveRates(price, tier, threshold + 1);
      }
      (void)stepledger::domain::pricing::ResolveRates(price, tier, 0);
    }
  }
  return 0;
}
