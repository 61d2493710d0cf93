// Computed costs for real models of the shipped LiteLLM map equal an independent computation
// made here from the JSON values: the test reads the map with nlohmann's DOM, takes each
// price's text, converts it exactly with its own decimal reader and multiplies in __int128.
// Which key prices which bucket is spelled out per case, so the expected value does not
// depend on the engine's rate-resolution code.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/catalog/catalog_files.h"
#include "server/domain/pricing/price_step.h"
#include "tests/unit/pricing/test_catalog.h"

namespace stepledger::catalog {
namespace {

using domain::StepKind;
using domain::Usage;
using domain::pricing::CostSource;
using domain::pricing::PriceBook;
using domain::pricing::PriceStep;
using domain::pricing::PricingInput;
using domain::pricing::PricingResult;
using domain::pricing::ServiceTier;
using testing::ExactFemtoUsd;
using testing::RoundFemtoToNano;

const absl::Time kEffective = absl::FromUnixSeconds(1'700'000'000);

class ShippedCatalog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    json_ = new nlohmann::json(
        nlohmann::json::parse(testing::ReadWholeFile(testing::kModelPricesPath)));
    absl::StatusOr<domain::pricing::PriceVersion> version = LoadPriceVersionFromFiles(
        "shipped", kEffective, testing::kModelPricesPath, testing::kToolPricesPath);
    ASSERT_TRUE(version.ok()) << version.status();
    book_ = new PriceBook();
    ASSERT_TRUE(book_->Add(*std::move(version)).ok());
  }
  static void TearDownTestSuite() {
    delete json_;
    delete book_;
  }

  // Price of `key` for `model` in 1e-15 USD, read from the JSON text.
  static __int128 JsonPrice(const std::string& model, const std::string& key) {
    const nlohmann::json& entry = json_->at(model);
    if (!entry.contains(key)) {
      ADD_FAILURE() << model << " has no " << key;
      return 0;
    }
    return ExactFemtoUsd(entry.at(key).dump());
  }

  static PricingResult Price(const std::string& model, const Usage& usage, ServiceTier tier,
                             const std::string& provider = "") {
    PricingInput input;
    input.kind = StepKind::kModelCall;
    input.provider = provider;
    input.model = model;
    input.usage = usage;
    input.tier = tier;
    input.occurred_at = kEffective + absl::Hours(1);
    return PriceStep(*book_, input);
  }

  static nlohmann::json* json_;
  static PriceBook* book_;
};

nlohmann::json* ShippedCatalog::json_ = nullptr;
PriceBook* ShippedCatalog::book_ = nullptr;

// One scenario: usage, tier, and the JSON key that prices each bucket ("" = bucket is 0).
struct Case {
  std::string model;
  ServiceTier tier;
  Usage usage;
  std::string input_key;
  std::string cache_read_key;
  std::string cache_write_key;
  std::string output_key;
  std::string reasoning_key;
};

Usage MakeUsage(std::optional<int64_t> input, std::optional<int64_t> cache_read,
                std::optional<int64_t> cache_write, std::optional<int64_t> output,
                std::optional<int64_t> reasoning) {
  Usage usage;
  usage.input_uncached_tokens = input;
  usage.cache_read_tokens = cache_read;
  usage.cache_write_tokens = cache_write;
  usage.output_tokens = output;
  usage.reasoning_tokens = reasoning;
  return usage;
}

constexpr char kIn[] = "input_cost_per_token";
constexpr char kOut[] = "output_cost_per_token";
constexpr char kRead[] = "cache_read_input_token_cost";
constexpr char kWrite[] = "cache_creation_input_token_cost";

std::vector<Case> Cases() {
  const std::string a200 = "_above_200k_tokens";
  const std::string a272 = "_above_272k_tokens";
  return {
      // OpenAI, cache reads, no cache writes.
      {"gpt-4o", ServiceTier::kStandard, MakeUsage(123'457, 65'536, std::nullopt, 4'321, 0), kIn,
       kRead, "", kOut, ""},
      {"gpt-4o-mini", ServiceTier::kStandard, MakeUsage(1'001, 7, std::nullopt, 333, std::nullopt),
       kIn, kRead, "", kOut, ""},
      {"gpt-4.1", ServiceTier::kBatch, MakeUsage(50'001, 0, std::nullopt, 2'999, std::nullopt),
       std::string(kIn) + "_batches", "", "", std::string(kOut) + "_batches", ""},
      {"gpt-4.1-mini", ServiceTier::kPriority, MakeUsage(9'999, 1'111, std::nullopt, 77, 0),
       std::string(kIn) + "_priority", std::string(kRead) + "_priority", "",
       std::string(kOut) + "_priority", ""},
      // Reasoning tokens billed at the output rate.
      {"o3", ServiceTier::kStandard, MakeUsage(20'000, 3'333, std::nullopt, 1'234, 8'765), kIn,
       kRead, "", kOut, kOut},
      {"o4-mini", ServiceTier::kFlex, MakeUsage(7'777, 2'048, std::nullopt, 555, 4'444),
       std::string(kIn) + "_flex", std::string(kRead) + "_flex", "", std::string(kOut) + "_flex",
       std::string(kOut) + "_flex"},
      {"gpt-5-mini", ServiceTier::kStandard, MakeUsage(31'415, 9'265, std::nullopt, 358, 979), kIn,
       kRead, "", kOut, kOut},
      // OpenAI long context: above 272k total input, every bucket at the long rate.
      {"gpt-5.4", ServiceTier::kStandard, MakeUsage(200'000, 72'001, std::nullopt, 10'007, 3),
       kIn + a272, kRead + a272, "", kOut + a272, kOut + a272},
      {"gpt-5.4", ServiceTier::kStandard, MakeUsage(200'000, 72'000, std::nullopt, 10'007, 3), kIn,
       kRead, "", kOut, kOut},
      {"gpt-5.5", ServiceTier::kStandard, MakeUsage(300'001, 0, std::nullopt, 1, std::nullopt),
       kIn + a272, "", "", kOut + a272, ""},
      {"gpt-5.4-pro", ServiceTier::kStandard, MakeUsage(400'000, 12'345, std::nullopt, 6'789, 11),
       kIn + a272, kRead + a272, "", kOut + a272, kOut + a272},
      // OpenAI without cache prices.
      {"gpt-3.5-turbo", ServiceTier::kStandard,
       MakeUsage(3'141, std::nullopt, std::nullopt, 59, std::nullopt), kIn, "", "", kOut, ""},
      {"gpt-4-turbo", ServiceTier::kStandard,
       MakeUsage(12'345, std::nullopt, std::nullopt, 678, std::nullopt), kIn, "", "", kOut, ""},
      {"o1-pro", ServiceTier::kBatch, MakeUsage(1'500, std::nullopt, std::nullopt, 2'500, 1'000),
       std::string(kIn) + "_batches", "", "", std::string(kOut) + "_batches",
       std::string(kOut) + "_batches"},
      // Anthropic: cache reads and writes.
      {"claude-opus-4-1", ServiceTier::kStandard,
       MakeUsage(2'345, 100'001, 5'555, 987, std::nullopt), kIn, kRead, kWrite, kOut, ""},
      {"claude-haiku-4-5", ServiceTier::kStandard, MakeUsage(17, 40'000, 3, 1'999, std::nullopt),
       kIn, kRead, kWrite, kOut, ""},
      {"claude-3-haiku-20240307", ServiceTier::kStandard, MakeUsage(4'096, 1, 2, 3, std::nullopt),
       kIn, kRead, kWrite, kOut, ""},
      {"claude-opus-4-5", ServiceTier::kStandard,
       MakeUsage(88'888, 11'111, 22'222, 3'333, std::nullopt), kIn, kRead, kWrite, kOut, ""},
      {"claude-sonnet-4-6", ServiceTier::kStandard,
       MakeUsage(150'000, 49'999, 1, 7'000, std::nullopt), kIn, kRead, kWrite, kOut, ""},
      // Anthropic long context: 200k counted over uncached + cache read + cache write.
      {"claude-sonnet-4-5", ServiceTier::kStandard,
       MakeUsage(100'000, 60'000, 40'001, 12'345, std::nullopt), kIn + a200, kRead + a200,
       kWrite + a200, kOut + a200, ""},
      {"claude-sonnet-4-5", ServiceTier::kStandard,
       MakeUsage(100'000, 60'000, 40'000, 12'345, std::nullopt), kIn, kRead, kWrite, kOut, ""},
  };
}

TEST_F(ShippedCatalog, ComputedCostEqualsIndependentComputationFromJson) {
  std::set<std::string> models;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.model + " tier " + std::string(domain::pricing::ToString(c.tier)));
    models.insert(c.model);
    __int128 expected_femto = 0;
    auto add = [&](const std::optional<int64_t>& tokens, const std::string& key) {
      if (key.empty()) {
        EXPECT_EQ(tokens.value_or(0), 0) << "case prices a non-zero bucket with no key";
        return;
      }
      expected_femto += static_cast<__int128>(tokens.value_or(0)) * JsonPrice(c.model, key);
    };
    add(c.usage.input_uncached_tokens, c.input_key);
    add(c.usage.cache_read_tokens, c.cache_read_key);
    add(c.usage.cache_write_tokens, c.cache_write_key);
    add(c.usage.output_tokens, c.output_key);
    add(c.usage.reasoning_tokens, c.reasoning_key);

    PricingResult result = Price(c.model, c.usage, c.tier);
    ASSERT_EQ(result.source, CostSource::kComputed)
        << domain::pricing::ToString(result.unpriced_reason);
    EXPECT_EQ(result.cost_nano_usd, RoundFemtoToNano(expected_femto));
    EXPECT_EQ(result.price_version_id, "shipped");
    EXPECT_EQ(result.priced_as, c.model);
  }
  EXPECT_GE(models.size(), 12u);
}

TEST_F(ShippedCatalog, ProviderPrefixedNameFindsSameModel) {
  Usage usage = MakeUsage(1'000, 0, 0, 1'000, 0);
  PricingResult plain = Price("gpt-4o", usage, ServiceTier::kStandard);
  EXPECT_EQ(Price("openai/gpt-4o", usage, ServiceTier::kStandard).cost_nano_usd,
            plain.cost_nano_usd);
  EXPECT_EQ(Price("gpt-4o", usage, ServiceTier::kStandard, "openai").cost_nano_usd,
            plain.cost_nano_usd);
}

// Every chat-like model in the map, standard tier, all buckets used: the engine agrees with
// LiteLLM's documented meaning of the base keys (cache buckets without a price bill as input,
// reasoning without a price bills as output).
TEST_F(ShippedCatalog, EveryLoadedModelMatchesJsonAtBaseRates) {
  Usage usage = MakeUsage(1'234, 567, 89, 4'321, 123);
  size_t priced = 0;
  for (const auto& [model, entry] : json_->items()) {
    std::string mode = entry.value("mode", "chat");
    if (mode != "chat" && mode != "completion" && mode != "responses" && mode != "embedding") {
      continue;
    }
    if (!entry.contains(kIn) || !entry.contains(kOut)) continue;
    SCOPED_TRACE(model);
    auto price_of = [&](const char* key, const char* fallback) {
      return ExactFemtoUsd(entry.contains(key) ? entry.at(key).dump() : entry.at(fallback).dump());
    };
    __int128 expected = 1'234 * price_of(kIn, kIn) + 567 * price_of(kRead, kIn) +
                        89 * price_of(kWrite, kIn) + 4'321 * price_of(kOut, kOut) +
                        123 * price_of("output_cost_per_reasoning_token", kOut);
    PricingResult result = Price(model, usage, ServiceTier::kStandard);
    ASSERT_EQ(result.source, CostSource::kComputed);
    EXPECT_EQ(result.cost_nano_usd, RoundFemtoToNano(expected));
    ++priced;
  }
  EXPECT_GT(priced, 190u);
}

TEST_F(ShippedCatalog, TierTheModelDoesNotOfferIsUnpriced) {
  // gpt-5-nano lists a priority input price but no priority output price.
  PricingResult result = Price("gpt-5-nano", MakeUsage(10, 0, 0, 10, 0), ServiceTier::kPriority);
  EXPECT_EQ(result.source, CostSource::kUnpriced);
  EXPECT_EQ(domain::pricing::ToString(result.unpriced_reason), "unknown_tier");
  result = Price("claude-opus-4-1", MakeUsage(10, 0, 0, 10, 0), ServiceTier::kBatch);
  EXPECT_EQ(domain::pricing::ToString(result.unpriced_reason), "unknown_tier");
}

TEST_F(ShippedCatalog, ShippedToolPricesAreLoaded) {
  const domain::pricing::PriceVersion* version = book_->VersionAt(kEffective);
  ASSERT_NE(version, nullptr);
  EXPECT_NE(version->FindTool("cohere_rerank"), nullptr);
  EXPECT_NE(version->FindTool("openai_web_search"), nullptr);
}

}  // namespace
}  // namespace stepledger::catalog
