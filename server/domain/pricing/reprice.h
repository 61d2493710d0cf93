// The re-pricing rule: given a stored step (without a reported cost) and what it costs today
// (its stored cost plus earlier corrections), decide whether a correction entry is due and
// for how much. Storage applies the decisions; this file holds the rule only.
//
// Rule:
//  1. The step is priced with the version in force when it occurred (PriceStep), exactly as
//     at ingest. When that gives a cost different from the step's effective cost, a correction
//     moves it there (reason "mispriced", or "unpriced:<reason>" when it had no cost). This
//     catches steps priced by a replica whose book was stale, or left unpriced by a collector
//     that had no catalog yet.
//  2. A step that is still unpriced because the version in force did not know its model or
//     tool, had no rates for its tier, or because no version was in force yet, is priced by
//     the FIRST later version that prices it. Such a version is a catalog fix: the model's
//     price did not change when it was added to the catalog, the catalog was missing it.
//     Versions are append-only in time (pg_price_store.h), so this choice is stable.
//  3. A step that has an effective cost is never made unpriced again, and usage problems
//     (missing_usage, invalid_usage, missing_units, nothing_to_price, overflow) are not
//     catalog problems: no correction, the step is reported as left as it is.
//
// Thread safety: pure functions over immutable inputs.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_REPRICE_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_REPRICE_H_

#include <optional>
#include <string>
#include <string_view>

#include "server/domain/pricing/price_book.h"
#include "server/domain/pricing/price_step.h"

namespace stepledger::domain::pricing {

struct RepriceDecision {
  // Set when a correction is due: the new effective cost and the version that priced it.
  std::optional<NanoUsd> new_cost_nano_usd;
  std::string price_version_id;
  std::string reason;  // "mispriced" or "unpriced:<previous unpriced reason>"
  // When no correction is due and the step has no effective cost: why it is still unpriced.
  UnpricedReason still_unpriced = UnpricedReason::kNone;
};

// REQUIRES: input.reported_cost_nano_usd is empty (reported costs are never re-priced).
// `effective_cost`: the stored cost plus earlier corrections; nullopt when still unpriced.
// `stored_unpriced_reason`: the reason stored with the step ("" when unknown), for `reason`.
RepriceDecision DecideReprice(const PriceBook& book, const PricingInput& input,
                              std::optional<NanoUsd> effective_cost,
                              std::string_view stored_unpriced_reason);

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_REPRICE_H_
