// CatalogPricer: the collector's StepPricer. Prices steps that arrive without a reported cost
// from a PriceBook holding every stored price version, so each step is priced by the version
// in force when it occurred (domain/pricing/price_step.h has the rules).
//
// The book is immutable and shared: Swap() publishes a new one atomically (SIGHUP reload, or
// another replica stored a version). A Price() call that started before a swap finishes on the
// book it loaded; later calls see the new one. No lock is held while pricing.
//
// Thread safety: Price(), Swap() and book() may be called concurrently from any thread.
#ifndef STEPLEDGER_SERVER_APP_CATALOG_PRICER_H_
#define STEPLEDGER_SERVER_APP_CATALOG_PRICER_H_

#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "server/domain/ingest/ledger_port.h"
#include "server/domain/pricing/price_book.h"

namespace stepledger::app {

class CatalogPricer final : public domain::ingest::StepPricer {
 public:
  // Starts with an empty book: every step is unpriced (no_price_version) until Swap().
  CatalogPricer();
  explicit CatalogPricer(std::shared_ptr<const domain::pricing::PriceBook> book);

  // REQUIRES: step.cost_nano_usd is empty (a reported cost always wins; the caller keeps it).
  domain::ingest::PricedCost Price(const domain::Step& step, absl::Time occurred_at) const override;

  // REQUIRES: book != nullptr.
  void Swap(std::shared_ptr<const domain::pricing::PriceBook> book);
  std::shared_ptr<const domain::pricing::PriceBook> book() const;

 private:
  std::atomic<std::shared_ptr<const domain::pricing::PriceBook>> book_;
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_CATALOG_PRICER_H_
