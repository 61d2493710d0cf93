// The provider service tier a model call ran on. Providers price the same tokens differently
// by tier (OpenAI: Batch API at about half price, "priority" at a premium, "flex" cheaper but
// slower), so the tier is part of the price lookup.
//
// Thread safety: plain values.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_SERVICE_TIER_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_SERVICE_TIER_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace stepledger::domain::pricing {

enum class ServiceTier { kStandard, kBatch, kPriority, kFlex };

// "standard", "batch", "priority", "flex".
absl::string_view ToString(ServiceTier tier);

// Accepts the names above and the spellings gateways send: OpenAI's `service_tier` values
// "default" and "auto" (both billed as standard) and LiteLLM's key suffix "batches". Empty
// means standard. Case-sensitive. Returns nullopt for anything else, so an unknown tier is
// reported rather than priced at the wrong rate.
std::optional<ServiceTier> ParseServiceTier(absl::string_view text);

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_SERVICE_TIER_H_
