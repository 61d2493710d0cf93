#include "server/app/catalog_pricer.h"

#include <utility>

#include "server/domain/pricing/price_step.h"
#include "server/domain/pricing/service_tier.h"

namespace stepledger::app {
namespace {

namespace pricing = domain::pricing;

domain::ingest::CostSource ToIngest(pricing::CostSource source) {
  switch (source) {
    case pricing::CostSource::kReported:
      return domain::ingest::CostSource::kReported;
    case pricing::CostSource::kComputed:
      return domain::ingest::CostSource::kComputed;
    case pricing::CostSource::kUnpriced:
      break;
  }
  return domain::ingest::CostSource::kUnpriced;
}

}  // namespace

CatalogPricer::CatalogPricer() : CatalogPricer(std::make_shared<const pricing::PriceBook>()) {}

CatalogPricer::CatalogPricer(std::shared_ptr<const pricing::PriceBook> book)
    : book_(std::move(book)) {}

domain::ingest::PricedCost CatalogPricer::Price(const domain::Step& step,
                                                absl::Time occurred_at) const {
  pricing::PricingInput input = pricing::MakePricingInput(step, occurred_at);
  input.occurred_at = occurred_at;  // the ledger's occurred_at, whatever the step carries
  input.reported_cost_nano_usd.reset();
  input.units = step.tool_units;
  if (!step.service_tier.empty()) {
    std::optional<pricing::ServiceTier> tier = pricing::ParseServiceTier(step.service_tier);
    if (!tier.has_value()) {
      // Never price at the wrong rate: an unknown tier is visible as unpriced.
      domain::ingest::PricedCost unpriced;
      unpriced.unpriced_reason =
          std::string(pricing::ToString(pricing::UnpricedReason::kUnknownTier));
      return unpriced;
    }
    input.tier = *tier;
  }
  const std::shared_ptr<const pricing::PriceBook> book = book_.load();
  pricing::PricingResult result = pricing::PriceStep(*book, input);
  domain::ingest::PricedCost priced;
  priced.cost_nano_usd = result.cost_nano_usd;
  priced.source = ToIngest(result.source);
  priced.price_version = std::move(result.price_version_id);
  priced.unpriced_reason = std::string(pricing::ToString(result.unpriced_reason));
  return priced;
}

void CatalogPricer::Swap(std::shared_ptr<const pricing::PriceBook> book) {
  book_.store(std::move(book));
}

std::shared_ptr<const pricing::PriceBook> CatalogPricer::book() const { return book_.load(); }

}  // namespace stepledger::app
