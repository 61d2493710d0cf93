#include "server/domain/pricing/reprice.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace stepledger::domain::pricing {
namespace {

// Unpriced reasons that a later catalog can fix.
bool CatalogGap(UnpricedReason reason) {
  return reason == UnpricedReason::kNoPriceVersion || reason == UnpricedReason::kUnknownModel ||
         reason == UnpricedReason::kUnknownTool || reason == UnpricedReason::kUnknownTier;
}

}  // namespace

RepriceDecision DecideReprice(const PriceBook& book, const PricingInput& input,
                              std::optional<NanoUsd> effective_cost,
                              std::string_view stored_unpriced_reason) {
  RepriceDecision decision;
  PricingResult priced = PriceStep(book, input);
  if (priced.source == CostSource::kUnpriced && !effective_cost.has_value() &&
      CatalogGap(priced.unpriced_reason)) {
    // Rule 2: the first later version that prices the step.
    for (const PriceVersion& version : book.versions()) {
      if (version.effective_from <= input.occurred_at) continue;
      PricingInput at_version = input;
      at_version.occurred_at = version.effective_from;
      PricingResult later = PriceStep(book, at_version);
      if (later.source == CostSource::kComputed) {
        priced = std::move(later);
        break;
      }
    }
  }
  if (priced.source != CostSource::kComputed) {
    if (!effective_cost.has_value()) decision.still_unpriced = priced.unpriced_reason;
    return decision;  // rule 3
  }
  if (effective_cost.has_value() && *effective_cost == *priced.cost_nano_usd) return decision;
  decision.new_cost_nano_usd = priced.cost_nano_usd;
  decision.price_version_id = priced.price_version_id;
  if (effective_cost.has_value()) {
    decision.reason = "mispriced";
  } else {
    const std::string was =
        stored_unpriced_reason.empty() ? "unknown" : std::string(stored_unpriced_reason);
    decision.reason = absl::StrCat("unpriced:", was);
  }
  return decision;
}

}  // namespace stepledger::domain::pricing
