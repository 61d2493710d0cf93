#include "server/domain/pricing/service_tier.h"

namespace stepledger::domain::pricing {

absl::string_view ToString(ServiceTier tier) {
  switch (tier) {
    case ServiceTier::kStandard:
      return "standard";
    case ServiceTier::kBatch:
      return "batch";
    case ServiceTier::kPriority:
      return "priority";
    case ServiceTier::kFlex:
      return "flex";
  }
  return "";
}

std::optional<ServiceTier> ParseServiceTier(absl::string_view text) {
  if (text.empty() || text == "standard" || text == "default" || text == "auto") {
    return ServiceTier::kStandard;
  }
  if (text == "batch" || text == "batches") return ServiceTier::kBatch;
  if (text == "priority") return ServiceTier::kPriority;
  if (text == "flex") return ServiceTier::kFlex;
  return std::nullopt;
}

}  // namespace stepledger::domain::pricing
