#include "server/domain/pricing/price_step.h"

#include <cstdint>
#include <limits>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace stepledger::domain::pricing {
namespace {

const absl::Time kV1From = absl::FromUnixSeconds(1'760'000'000);
const absl::Time kV2From = kV1From + absl::Hours(24);

// FemtoUsd per token that makes one token cost one nano-USD ($1 per billion tokens).
constexpr FemtoUsd kNano = 1'000'000;

TokenRates Rates(std::optional<FemtoUsd> input, std::optional<FemtoUsd> output,
                 std::optional<FemtoUsd> cache_read = std::nullopt,
                 std::optional<FemtoUsd> cache_write = std::nullopt) {
  TokenRates rates;
  rates.input = input;
  rates.output = output;
  rates.cache_read = cache_read;
  rates.cache_write = cache_write;
  return rates;
}

ToolPrice Tool(std::string name, FemtoUsd per_call, FemtoUsd per_1k_units, std::string unit_name) {
  ToolPrice tool;
  tool.name = std::move(name);
  tool.per_call = per_call;
  tool.per_1k_units = per_1k_units;
  tool.unit_name = std::move(unit_name);
  return tool;
}

// Rates below are written in nano-USD per token so the expected costs read plainly.
ModelPrice TestModel() {
  ModelPrice m;
  m.name = "test-model";
  m.provider = "openai";
  m.mode = "chat";
  TierPrices& standard = m.tiers[ServiceTier::kStandard];
  standard.base = Rates(1 * kNano, 2 * kNano, kNano / 10, kNano * 5 / 4);
  standard.above_threshold[200'000] = Rates(2 * kNano, 3 * kNano, kNano / 5, kNano * 5 / 2);
  m.tiers[ServiceTier::kBatch].base = Rates(kNano / 2, 1 * kNano);
  TierPrices& priority = m.tiers[ServiceTier::kPriority];
  priority.base = Rates(2 * kNano, 4 * kNano, kNano / 5);
  priority.above_threshold[200'000] = Rates(4 * kNano, std::nullopt);
  return m;
}

ModelPrice SimpleModel(std::string name, FemtoUsd input, FemtoUsd output) {
  ModelPrice m;
  m.name = name;
  m.tiers[ServiceTier::kStandard].base = Rates(input, output);
  return m;
}

PriceBook TestBook() {
  PriceVersion v1;
  v1.id = "v1";
  v1.effective_from = kV1From;
  v1.models["test-model"] = TestModel();
  v1.models["no-cache"] = SimpleModel("no-cache", 3 * kNano, 6 * kNano);
  ModelPrice reasoner = SimpleModel("reasoner", 1 * kNano, 8 * kNano);
  reasoner.tiers[ServiceTier::kStandard].base.reasoning = 9 * kNano;
  v1.models["reasoner"] = reasoner;
  v1.models["embedder"] = SimpleModel("embedder", kNano / 10, 0);
  v1.models["tiny"] = SimpleModel("tiny", kNano * 2 / 5, kNano * 2 / 5);  // 0.4 nano-USD
  // Tool prices in FemtoUsd: $0.01 per call; $0.02, $0.05 and $0.0000015 per 1000 units.
  v1.tools["web_search"] = Tool("web_search", 10'000'000'000'000, 0, "");
  v1.tools["rerank"] = Tool("rerank", 0, 20'000'000'000'000, "documents");
  v1.tools["sandbox"] = Tool("sandbox", 500'000'000'000, 50'000'000'000'000, "seconds");
  v1.tools["meter"] = Tool("meter", 0, 1'500'000'000, "events");

  PriceVersion v2;
  v2.id = "v2";
  v2.effective_from = kV2From;
  v2.models["test-model"] = SimpleModel("test-model", 5 * kNano, 5 * kNano);

  PriceBook book;
  EXPECT_TRUE(book.Add(std::move(v1)).ok());
  EXPECT_TRUE(book.Add(std::move(v2)).ok());
  return book;
}

PricingInput ModelStep(std::string model, std::optional<int64_t> input,
                       std::optional<int64_t> output) {
  PricingInput in;
  in.kind = StepKind::kModelCall;
  in.model = std::move(model);
  in.usage.input_uncached_tokens = input;
  in.usage.output_tokens = output;
  in.occurred_at = kV1From + absl::Minutes(5);
  return in;
}

PricingInput ToolStep(std::string tool, std::optional<int64_t> units) {
  PricingInput in;
  in.kind = StepKind::kToolCall;
  in.tool_name = std::move(tool);
  in.units = units;
  in.occurred_at = kV1From + absl::Minutes(5);
  return in;
}

class PriceStepTest : public ::testing::Test {
 protected:
  PriceBook book_ = TestBook();
};

TEST_F(PriceStepTest, ReportedCostWinsOverCatalog) {
  PricingInput in = ModelStep("test-model", 1'000, 1'000);
  in.reported_cost_nano_usd = 123;
  PricingResult r = PriceStep(book_, in);
  EXPECT_EQ(r.source, CostSource::kReported);
  EXPECT_EQ(r.cost_nano_usd, 123);
  EXPECT_EQ(r.price_version_id, "");
  EXPECT_EQ(ToString(r.source), "reported");
}

TEST_F(PriceStepTest, ReportedCostWinsEvenForUnknownModelAndMissingUsage) {
  PricingInput in = ModelStep("no-such-model", std::nullopt, std::nullopt);
  in.reported_cost_nano_usd = 0;
  PricingResult r = PriceStep(book_, in);
  EXPECT_EQ(r.source, CostSource::kReported);
  EXPECT_EQ(r.cost_nano_usd, 0);
}

TEST_F(PriceStepTest, UnknownModelIsUnpricedNotZero) {
  PricingResult r = PriceStep(book_, ModelStep("no-such-model", 10, 10));
  EXPECT_EQ(r.source, CostSource::kUnpriced);
  EXPECT_EQ(r.cost_nano_usd, std::nullopt);
  EXPECT_EQ(ToString(r.unpriced_reason), "unknown_model");
  EXPECT_EQ(r.price_version_id, "v1");  // which catalog did not know it, for re-pricing
}

TEST_F(PriceStepTest, EntirelyAbsentUsageIsUnpricedNotZero) {
  PricingResult r = PriceStep(book_, ModelStep("test-model", std::nullopt, std::nullopt));
  EXPECT_EQ(r.source, CostSource::kUnpriced);
  EXPECT_EQ(r.cost_nano_usd, std::nullopt);
  EXPECT_EQ(ToString(r.unpriced_reason), "missing_usage");
}

TEST_F(PriceStepTest, MissingInputOrOutputIsUnpriced) {
  EXPECT_EQ(PriceStep(book_, ModelStep("test-model", 10, std::nullopt)).unpriced_reason,
            UnpricedReason::kMissingUsage);
  EXPECT_EQ(PriceStep(book_, ModelStep("test-model", std::nullopt, 10)).unpriced_reason,
            UnpricedReason::kMissingUsage);
  // Cache counts alone do not stand in for the primary buckets.
  PricingInput in = ModelStep("test-model", std::nullopt, 10);
  in.usage.cache_read_tokens = 500;
  EXPECT_EQ(PriceStep(book_, in).unpriced_reason, UnpricedReason::kMissingUsage);
}

TEST_F(PriceStepTest, EmbeddingNeedsOnlyInput) {
  PricingInput in = ModelStep("embedder", 10'000, std::nullopt);
  in.kind = StepKind::kEmbedding;
  PricingResult r = PriceStep(book_, in);
  ASSERT_EQ(r.source, CostSource::kComputed);
  EXPECT_EQ(r.cost_nano_usd, 1'000);  // 10'000 tokens * $0.1/M
}

TEST_F(PriceStepTest, AbsentSecondaryBucketsCountAsZeroWhenPrimaryKnown) {
  PricingResult r = PriceStep(book_, ModelStep("test-model", 1'000, 500));
  ASSERT_EQ(r.source, CostSource::kComputed);
  EXPECT_EQ(r.cost_nano_usd, 1'000 * 1 + 500 * 2);
  EXPECT_EQ(r.price_version_id, "v1");
  EXPECT_EQ(r.priced_as, "test-model");
  EXPECT_EQ(ToString(r.source), "computed");
}

TEST_F(PriceStepTest, KnownZeroUsageCostsZero) {
  PricingResult r = PriceStep(book_, ModelStep("test-model", 0, 0));
  EXPECT_EQ(r.source, CostSource::kComputed);
  EXPECT_EQ(r.cost_nano_usd, 0);
}

TEST_F(PriceStepTest, EveryBucketAtItsOwnRate) {
  PricingInput in = ModelStep("test-model", 1'000, 300);
  in.usage.cache_read_tokens = 10'000;
  in.usage.cache_write_tokens = 2'000;
  in.usage.reasoning_tokens = 700;
  // nano-USD per token: input 1, cache read 0.1, cache write 1.25, output 2, reasoning 2.
  EXPECT_EQ(PriceStep(book_, in).cost_nano_usd, 1'000 + 1'000 + 2'500 + 600 + 1'400);
}

TEST_F(PriceStepTest, ReasoningUsesItsOwnRateWhenTheCatalogHasOne) {
  PricingInput in = ModelStep("reasoner", 0, 10);
  in.usage.reasoning_tokens = 100;
  EXPECT_EQ(PriceStep(book_, in).cost_nano_usd, 10 * 8 + 100 * 9);
}

TEST_F(PriceStepTest, CacheBucketsWithoutCachePricesBillAsInput) {
  PricingInput in = ModelStep("no-cache", 100, 0);
  in.usage.cache_read_tokens = 50;
  in.usage.cache_write_tokens = 25;
  EXPECT_EQ(PriceStep(book_, in).cost_nano_usd, (100 + 50 + 25) * 3);
}

TEST_F(PriceStepTest, ThresholdIsExclusiveAndCountsAllInputBuckets) {
  // 150'000 + 40'000 + 10'000 == 200'000: not above the threshold.
  PricingInput at = ModelStep("test-model", 150'000, 1'000);
  at.usage.cache_read_tokens = 40'000;
  at.usage.cache_write_tokens = 10'000;
  EXPECT_EQ(PriceStep(book_, at).cost_nano_usd, 150'000 + 4'000 + 12'500 + 2'000);

  PricingInput above = at;
  above.usage.cache_write_tokens = 10'001;  // 200'001 total input
  // Every bucket at the long-context rates, output included:
  // 300'000 + 8'000 + 25'002.5 + 3'000 = 336'002.5, rounded half-up once.
  EXPECT_EQ(PriceStep(book_, above).cost_nano_usd, 336'003);
}

TEST_F(PriceStepTest, BatchTierUsesBatchRatesAndInheritsMissingBuckets) {
  PricingInput in = ModelStep("test-model", 1'000, 1'000);
  in.tier = ServiceTier::kBatch;
  in.usage.cache_read_tokens = 1'000;  // no batch cache-read rate: standard's applies
  EXPECT_EQ(PriceStep(book_, in).cost_nano_usd, 500 + 1'000 + 100);
}

TEST_F(PriceStepTest, PriorityTierAboveThresholdPrefersTheTiersOwnRates) {
  PricingInput in = ModelStep("test-model", 250'000, 1'000);
  in.tier = ServiceTier::kPriority;
  // input: priority band (4/token); output: priority base (4/token), the tier's own rate.
  EXPECT_EQ(PriceStep(book_, in).cost_nano_usd, 250'000 * 4 + 1'000 * 4);
}

TEST_F(PriceStepTest, TierTheModelDoesNotOfferIsUnpriced) {
  PricingInput in = ModelStep("test-model", 10, 10);
  in.tier = ServiceTier::kFlex;
  PricingResult r = PriceStep(book_, in);
  EXPECT_EQ(r.source, CostSource::kUnpriced);
  EXPECT_EQ(ToString(r.unpriced_reason), "unknown_tier");
  EXPECT_EQ(r.priced_as, "test-model");
}

TEST_F(PriceStepTest, RoundsOnceHalfUpOverTheWholeStep) {
  // 0.4 + 0.4 nano-USD: rounding each bucket would give 0; the step costs 0.8 -> 1.
  EXPECT_EQ(PriceStep(book_, ModelStep("tiny", 1, 1)).cost_nano_usd, 1);
  // 0.4 + 0.8 = 1.2 -> 1; 0.4 * 5 + 0.4 * 0 = 2.0 -> 2; 0.4 * 3 + 0.4 * 2 = 2.0 -> 2.
  EXPECT_EQ(PriceStep(book_, ModelStep("tiny", 1, 2)).cost_nano_usd, 1);
  EXPECT_EQ(PriceStep(book_, ModelStep("tiny", 5, 0)).cost_nano_usd, 2);
  // 0.4 -> 0; cache read (billed as input here) joins the same sum: 7 * 0.4 = 2.8 -> 3.
  EXPECT_EQ(PriceStep(book_, ModelStep("tiny", 1, 0)).cost_nano_usd, 0);
  PricingInput mixed = ModelStep("tiny", 4, 1);
  mixed.usage.cache_read_tokens = 2;
  EXPECT_EQ(PriceStep(book_, mixed).cost_nano_usd, 3);
}

TEST_F(PriceStepTest, HugeCountsAreUnpricedAsOverflowNotWrapped) {
  PricingInput in = ModelStep("test-model", std::numeric_limits<int64_t>::max(),
                              std::numeric_limits<int64_t>::max());
  in.usage.cache_read_tokens = std::numeric_limits<int64_t>::max();
  PricingResult r = PriceStep(book_, in);
  EXPECT_EQ(r.source, CostSource::kUnpriced);
  EXPECT_EQ(ToString(r.unpriced_reason), "overflow");
}

TEST_F(PriceStepTest, NegativeCountsAreInvalid) {
  EXPECT_EQ(ToString(PriceStep(book_, ModelStep("test-model", -1, 10)).unpriced_reason),
            "invalid_usage");
  EXPECT_EQ(ToString(PriceStep(book_, ToolStep("rerank", -5)).unpriced_reason), "invalid_usage");
}

TEST_F(PriceStepTest, VersionInForceWhenTheStepOccurredPricesIt) {
  PricingInput before = ModelStep("test-model", 1'000, 1'000);
  before.occurred_at = kV2From - absl::Nanoseconds(1);
  PricingResult r1 = PriceStep(book_, before);
  EXPECT_EQ(r1.price_version_id, "v1");
  EXPECT_EQ(r1.cost_nano_usd, 3'000);

  PricingInput at = before;
  at.occurred_at = kV2From;
  PricingResult r2 = PriceStep(book_, at);
  EXPECT_EQ(r2.price_version_id, "v2");
  EXPECT_EQ(r2.cost_nano_usd, 10'000);

  // A model only the older version knew is unknown under the newer one.
  PricingInput gone = ModelStep("no-cache", 1, 1);
  gone.occurred_at = kV2From;
  EXPECT_EQ(PriceStep(book_, gone).unpriced_reason, UnpricedReason::kUnknownModel);
}

TEST_F(PriceStepTest, StepBeforeEveryVersionIsUnpriced) {
  PricingInput in = ModelStep("test-model", 1, 1);
  in.occurred_at = kV1From - absl::Seconds(1);
  PricingResult r = PriceStep(book_, in);
  EXPECT_EQ(ToString(r.unpriced_reason), "no_price_version");
  EXPECT_EQ(r.price_version_id, "");
}

TEST_F(PriceStepTest, ProviderPrefixedModelNamesResolve) {
  EXPECT_EQ(PriceStep(book_, ModelStep("openai/test-model", 1'000, 0)).priced_as, "test-model");
}

TEST_F(PriceStepTest, ToolPricedPerCall) {
  PricingResult r = PriceStep(book_, ToolStep("web_search", std::nullopt));
  ASSERT_EQ(r.source, CostSource::kComputed);
  EXPECT_EQ(r.cost_nano_usd, 10'000'000);  // $0.01
  EXPECT_EQ(r.priced_as, "web_search");
  EXPECT_EQ(r.price_version_id, "v1");
}

TEST_F(PriceStepTest, ToolPricedPer1kUnitsPlusPerCall) {
  PricingInput rerank = ToolStep("rerank", 250);
  rerank.kind = StepKind::kRerank;
  EXPECT_EQ(PriceStep(book_, rerank).cost_nano_usd, 5'000'000);  // 250 * $0.02 / 1000
  PricingInput sandbox = ToolStep("sandbox", 37);
  EXPECT_EQ(PriceStep(book_, sandbox).cost_nano_usd, 2'350'000);  // $0.0005 + 37 * $0.00005
  // $0.0000015 per 1000 events: one event is 1.5e-9 USD -> 2 nano-USD, rounded once.
  EXPECT_EQ(PriceStep(book_, ToolStep("meter", 1)).cost_nano_usd, 2);
  EXPECT_EQ(PriceStep(book_, ToolStep("meter", 3)).cost_nano_usd, 5);  // 4.5 -> 5
}

TEST_F(PriceStepTest, ToolBilledPerUnitWithoutUnitsIsUnpriced) {
  PricingResult r = PriceStep(book_, ToolStep("rerank", std::nullopt));
  EXPECT_EQ(r.source, CostSource::kUnpriced);
  EXPECT_EQ(ToString(r.unpriced_reason), "missing_units");
}

TEST_F(PriceStepTest, UnknownToolIsUnpriced) {
  PricingInput in = ToolStep("mystery_api", 1);
  in.kind = StepKind::kRetrieval;
  PricingResult r = PriceStep(book_, in);
  EXPECT_EQ(r.source, CostSource::kUnpriced);
  EXPECT_EQ(ToString(r.unpriced_reason), "unknown_tool");
}

TEST_F(PriceStepTest, ModelCallWithToolNameIsPricedAsModel) {
  PricingInput in = ModelStep("test-model", 1'000, 0);
  in.tool_name = "web_search";
  EXPECT_EQ(PriceStep(book_, in).priced_as, "test-model");
  // Any kind with a tool name and no model is a tool step.
  PricingInput other = ToolStep("web_search", std::nullopt);
  other.kind = StepKind::kOther;
  EXPECT_EQ(PriceStep(book_, other).priced_as, "web_search");
}

TEST_F(PriceStepTest, NoModelAndNoToolIsUnpriced) {
  PricingInput in;
  in.occurred_at = kV1From;
  EXPECT_EQ(ToString(PriceStep(book_, in).unpriced_reason), "nothing_to_price");
}

TEST(MakePricingInputTest, OccurredAtIsStartThenEndThenReceipt) {
  Step step;
  step.kind = StepKind::kModelCall;
  step.model = "gpt-4o";
  step.provider = "openai";
  step.usage.input_uncached_tokens = 3;
  step.cost_nano_usd = 9;
  const absl::Time received = absl::FromUnixSeconds(300);
  EXPECT_EQ(MakePricingInput(step, received).occurred_at, received);
  step.ended_at = absl::FromUnixSeconds(200);
  EXPECT_EQ(MakePricingInput(step, received).occurred_at, absl::FromUnixSeconds(200));
  step.started_at = absl::FromUnixSeconds(100);
  PricingInput in = MakePricingInput(step, received);
  EXPECT_EQ(in.occurred_at, absl::FromUnixSeconds(100));
  EXPECT_EQ(in.model, "gpt-4o");
  EXPECT_EQ(in.provider, "openai");
  EXPECT_EQ(in.usage.input_uncached_tokens, 3);
  EXPECT_EQ(in.reported_cost_nano_usd, 9);
  EXPECT_EQ(in.tier, ServiceTier::kStandard);
}

TEST(ServiceTierTest, ParsesGatewaySpellings) {
  EXPECT_EQ(ParseServiceTier(""), ServiceTier::kStandard);
  EXPECT_EQ(ParseServiceTier("default"), ServiceTier::kStandard);
  EXPECT_EQ(ParseServiceTier("auto"), ServiceTier::kStandard);
  EXPECT_EQ(ParseServiceTier("batch"), ServiceTier::kBatch);
  EXPECT_EQ(ParseServiceTier("priority"), ServiceTier::kPriority);
  EXPECT_EQ(ParseServiceTier("flex"), ServiceTier::kFlex);
  EXPECT_EQ(ParseServiceTier("scale"), std::nullopt);
  EXPECT_EQ(ToString(ServiceTier::kFlex), "flex");
}

}  // namespace
}  // namespace stepledger::domain::pricing
