#include "gtest/gtest.h"
#include "server/domain/pricing/reprice.h"
#include "tests/unit/pricing_app/test_book.h"

namespace stepledger::domain::pricing {
namespace {

using testing::TestBook;
using testing::TestModel;
using testing::TestVersion;

const absl::Time kT0 = absl::FromUnixSeconds(1'770'000'000);

PricingInput Input(const std::string& model, absl::Time at) {
  PricingInput in;
  in.kind = StepKind::kModelCall;
  in.model = model;
  in.usage.input_uncached_tokens = 1000;
  in.usage.output_tokens = 100;
  in.occurred_at = at;
  return in;
}

PriceBook Book() {
  // v1 knows gpt-4o; v2 raises its input price; v3 adds acme-large.
  return TestBook({TestVersion("v1", kT0, {TestModel("gpt-4o", 2'500'000'000, 10'000'000'000)}),
                   TestVersion("v2", kT0 + absl::Hours(1),
                               {TestModel("gpt-4o", 5'000'000'000, 10'000'000'000)}),
                   TestVersion("v3", kT0 + absl::Hours(2),
                               {TestModel("gpt-4o", 5'000'000'000, 10'000'000'000),
                                TestModel("acme-large", 300'000'000, 1'200'000'000)})});
}

TEST(RepriceRuleTest, ACorrectlyPricedStepNeedsNoCorrection) {
  RepriceDecision d = DecideReprice(Book(), Input("gpt-4o", kT0 + absl::Minutes(5)), 3'500'000, "");
  EXPECT_FALSE(d.new_cost_nano_usd.has_value());
  EXPECT_EQ(d.still_unpriced, UnpricedReason::kNone);
}

TEST(RepriceRuleTest, AStepPricedByAnotherVersionIsMovedToTheVersionInForce) {
  RepriceDecision d =
      DecideReprice(Book(), Input("gpt-4o", kT0 + absl::Minutes(90)), 3'500'000, "");
  EXPECT_EQ(d.new_cost_nano_usd, 6'000'000);
  EXPECT_EQ(d.price_version_id, "v2");
  EXPECT_EQ(d.reason, "mispriced");
}

TEST(RepriceRuleTest, AnUnknownModelIsPricedByTheFirstLaterVersionThatKnowsIt) {
  RepriceDecision d = DecideReprice(Book(), Input("acme-large", kT0 + absl::Minutes(5)),
                                    std::nullopt, "unknown_model");
  EXPECT_EQ(d.new_cost_nano_usd, 1000 * 300 + 100 * 1'200);
  EXPECT_EQ(d.price_version_id, "v3");
  EXPECT_EQ(d.reason, "unpriced:unknown_model");
}

TEST(RepriceRuleTest, AStepBeforeEveryVersionIsPricedByTheFirstVersion) {
  RepriceDecision d = DecideReprice(Book(), Input("gpt-4o", kT0 - absl::Hours(5)), std::nullopt,
                                    "no_price_version");
  EXPECT_EQ(d.new_cost_nano_usd, 3'500'000);
  EXPECT_EQ(d.price_version_id, "v1");
}

TEST(RepriceRuleTest, MissingUsageIsNotACatalogProblemAndStaysUnpriced) {
  PricingInput in = Input("gpt-4o", kT0 + absl::Minutes(5));
  in.usage.input_uncached_tokens.reset();
  RepriceDecision d = DecideReprice(Book(), in, std::nullopt, "missing_usage");
  EXPECT_FALSE(d.new_cost_nano_usd.has_value());
  EXPECT_EQ(d.still_unpriced, UnpricedReason::kMissingUsage);
}

TEST(RepriceRuleTest, AModelNoVersionKnowsStaysUnpriced) {
  RepriceDecision d =
      DecideReprice(Book(), Input("nobody", kT0 + absl::Minutes(5)), std::nullopt, "unknown_model");
  EXPECT_FALSE(d.new_cost_nano_usd.has_value());
  EXPECT_EQ(d.still_unpriced, UnpricedReason::kUnknownModel);
}

TEST(RepriceRuleTest, AStepWithACostIsNeverMadeUnpricedAgain) {
  // Priced once (say by a book that had the model), now unknown in the version in force.
  RepriceDecision d = DecideReprice(Book(), Input("nobody", kT0 + absl::Minutes(5)), 1'234, "");
  EXPECT_FALSE(d.new_cost_nano_usd.has_value());
  EXPECT_EQ(d.still_unpriced, UnpricedReason::kNone);
}

TEST(RepriceRuleTest, AnEarlierCorrectionCountsAsTheCurrentCost) {
  // Effective cost already equals the fallback price: nothing more to do.
  RepriceDecision d = DecideReprice(Book(), Input("acme-large", kT0 + absl::Minutes(5)),
                                    1000 * 300 + 100 * 1'200, "unknown_model");
  EXPECT_FALSE(d.new_cost_nano_usd.has_value());
}

}  // namespace
}  // namespace stepledger::domain::pricing
