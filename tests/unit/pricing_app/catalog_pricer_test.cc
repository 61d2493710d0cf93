#include "server/app/catalog_pricer.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/pricing_app/test_book.h"

namespace stepledger::app {
namespace {

using domain::ingest::CostSource;
using domain::pricing::PriceBook;
using testing::TestBook;
using testing::TestModel;
using testing::TestVersion;

const absl::Time kT0 = absl::FromUnixSeconds(1'770'000'000);

domain::Step ModelStep(const std::string& model) {
  domain::Step s;
  s.event_id = "e1";
  s.kind = domain::StepKind::kModelCall;
  s.provider = "openai";
  s.model = model;
  s.usage.input_uncached_tokens = 1000;
  s.usage.output_tokens = 100;
  return s;
}

std::shared_ptr<const PriceBook> TwoVersions() {
  // v1: $2.50 / $10 per 1M tokens; v2 from kT0 + 1h: input doubles.
  return std::make_shared<const PriceBook>(
      TestBook({TestVersion("v1", kT0, {TestModel("gpt-4o", 2'500'000'000, 10'000'000'000)}),
                TestVersion("v2", kT0 + absl::Hours(1),
                            {TestModel("gpt-4o", 5'000'000'000, 10'000'000'000)})}));
}

TEST(CatalogPricerTest, WithoutAnyVersionAStepIsUnpricedNeverZero) {
  CatalogPricer pricer;
  domain::ingest::PricedCost priced = pricer.Price(ModelStep("gpt-4o"), kT0);
  EXPECT_FALSE(priced.cost_nano_usd.has_value());
  EXPECT_EQ(priced.source, CostSource::kUnpriced);
  EXPECT_EQ(priced.unpriced_reason, "no_price_version");
  EXPECT_EQ(priced.price_version, "");
}

TEST(CatalogPricerTest, PricesWithTheVersionInForceAtTheGivenTime) {
  CatalogPricer pricer(TwoVersions());
  domain::ingest::PricedCost before = pricer.Price(ModelStep("gpt-4o"), kT0 + absl::Minutes(59));
  EXPECT_EQ(before.cost_nano_usd, 1000 * 2'500 + 100 * 10'000);
  EXPECT_EQ(before.source, CostSource::kComputed);
  EXPECT_EQ(before.price_version, "v1");
  EXPECT_EQ(before.unpriced_reason, "");
  domain::ingest::PricedCost after = pricer.Price(ModelStep("gpt-4o"), kT0 + absl::Hours(1));
  EXPECT_EQ(after.cost_nano_usd, 1000 * 5'000 + 100 * 10'000);
  EXPECT_EQ(after.price_version, "v2");
}

TEST(CatalogPricerTest, UsesTheGivenOccurredAtNotTheStepsOwnTimes) {
  // The ledger's occurred_at is what the write path passes; the pricer must agree with it.
  CatalogPricer pricer(TwoVersions());
  domain::Step step = ModelStep("gpt-4o");
  step.started_at = kT0 + absl::Hours(2);
  EXPECT_EQ(pricer.Price(step, kT0 + absl::Minutes(1)).price_version, "v1");
}

TEST(CatalogPricerTest, UnknownModelAndMissingUsageAreUnpricedWithTheirReason) {
  CatalogPricer pricer(TwoVersions());
  EXPECT_EQ(pricer.Price(ModelStep("acme-large"), kT0).unpriced_reason, "unknown_model");
  domain::Step no_usage = ModelStep("gpt-4o");
  no_usage.usage.output_tokens.reset();
  domain::ingest::PricedCost priced = pricer.Price(no_usage, kT0);
  EXPECT_EQ(priced.unpriced_reason, "missing_usage");
  EXPECT_EQ(priced.price_version, "v1");  // consulted, still unpriced
  EXPECT_FALSE(priced.cost_nano_usd.has_value());
}

TEST(CatalogPricerTest, ToolStepsArePricedFromTheToolCatalog) {
  domain::pricing::PriceVersion v = TestVersion("v1", kT0, {});
  v.tools["web_search"] = {"web_search", 10'000'000'000'000, 0, ""};  // $0.01 per call
  CatalogPricer pricer(std::make_shared<const PriceBook>(TestBook({std::move(v)})));
  domain::Step step;
  step.kind = domain::StepKind::kToolCall;
  step.tool_name = "web_search";
  EXPECT_EQ(pricer.Price(step, kT0).cost_nano_usd, 10'000'000);
}

TEST(CatalogPricerTest, ASwappedBookPricesLaterCalls) {
  CatalogPricer pricer;
  EXPECT_EQ(pricer.Price(ModelStep("gpt-4o"), kT0).source, CostSource::kUnpriced);
  pricer.Swap(TwoVersions());
  EXPECT_EQ(pricer.Price(ModelStep("gpt-4o"), kT0).source, CostSource::kComputed);
  EXPECT_EQ(pricer.book()->versions().size(), 2u);
}

TEST(CatalogPricerTest, PricingWhileSwappingSeesWholeBooksOnly) {
  CatalogPricer pricer(TwoVersions());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        domain::ingest::PricedCost p = pricer.Price(ModelStep("gpt-4o"), kT0);
        // Either book prices it with v1 at this time; a torn book would not.
        if (p.price_version != "v1" || p.cost_nano_usd != 3'500'000) ++bad;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) pricer.Swap(TwoVersions());
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace stepledger::app
