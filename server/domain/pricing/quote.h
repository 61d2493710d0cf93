// Quoting one call from a price version: what `stepledger prices show|quote` asks through
// Admin.QuotePrice. The model is looked up by the rule of price_book.h, and a call is priced by
// QuoteModel (price_step.h), the same rules as a step at ingest: an embedding model is priced
// as an embedding call, anything else as a model call.
//
// Thread safety: a pure function.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_QUOTE_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_QUOTE_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/domain/pricing/price_book.h"
#include "server/domain/pricing/price_step.h"
#include "server/domain/pricing/service_tier.h"
#include "server/domain/step.h"

namespace stepledger::domain::pricing {

struct CallQuote {
  const ModelPrice* price = nullptr;  // Points into the version passed in.
  ServiceTier tier = ServiceTier::kStandard;
  std::optional<ModelQuoteResult> result;  // Set when usage was given.
};

// Finds `model` (narrowed by `provider`) in `version` and, when `usage` is set, quotes one
// call on `tier_name` ("" = standard). Errors: InvalidArgument naming the field (`model`
// empty, unknown `tier`, negative `usage` count); NotFound when the version has no such model.
// REQUIRES: `version` outlives the result.
absl::StatusOr<CallQuote> QuoteCall(const PriceVersion& version, std::string_view provider,
                                    std::string_view model, const std::optional<Usage>& usage,
                                    std::string_view tier_name);

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_QUOTE_H_
