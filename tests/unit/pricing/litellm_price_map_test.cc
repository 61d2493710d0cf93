#include "server/catalog/litellm_price_map.h"

#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/unit/pricing/test_catalog.h"

namespace stepledger::catalog {
namespace {

using domain::pricing::ServiceTier;

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

TEST(LiteLlmPriceMapTest, LoadsEveryTextTokenModelOfTheShippedMap) {
  std::string text = testing::ReadWholeFile(testing::kModelPricesPath);
  absl::StatusOr<LiteLlmPriceMap> map = LoadLiteLlmPriceMap(text);
  ASSERT_TRUE(map.ok()) << map.status();

  nlohmann::json json = nlohmann::json::parse(text);
  size_t expected = 0;
  for (const auto& [name, entry] : json.items()) {
    std::string mode = entry.value("mode", "chat");
    bool text_mode =
        mode == "chat" || mode == "completion" || mode == "responses" || mode == "embedding";
    if (text_mode && entry.contains("input_cost_per_token") &&
        entry.contains("output_cost_per_token")) {
      ++expected;
    }
  }
  EXPECT_EQ(map->models.size(), expected);
  EXPECT_EQ(map->models.size() + map->skipped.size(), json.size());
  EXPECT_TRUE(map->ignored_price_keys.empty()) << map->ignored_price_keys.front();
  EXPECT_FALSE(map->models.contains("gpt-image-1"));  // image generation is skipped
}

TEST(LiteLlmPriceMapTest, ReadsTiersThresholdsAndCacheWrites) {
  absl::StatusOr<LiteLlmPriceMap> map =
      LoadLiteLlmPriceMap(testing::ReadWholeFile(testing::kModelPricesPath));
  ASSERT_TRUE(map.ok());

  const domain::pricing::ModelPrice& gpt = map->models.at("gpt-5.4");
  EXPECT_EQ(gpt.provider, "openai");
  EXPECT_EQ(gpt.tiers.at(ServiceTier::kStandard).base.input, 2'500'000'000);
  EXPECT_EQ(gpt.tiers.at(ServiceTier::kStandard).above_threshold.at(272'000).output,
            22'500'000'000);
  EXPECT_EQ(gpt.tiers.at(ServiceTier::kBatch).base.input, 1'250'000'000);
  EXPECT_EQ(gpt.tiers.at(ServiceTier::kFlex).base.cache_read, 130'000'000);
  EXPECT_EQ(gpt.tiers.at(ServiceTier::kPriority).base.output, 30'000'000'000);

  const domain::pricing::ModelPrice& claude = map->models.at("claude-sonnet-4-5");
  const domain::pricing::TierPrices& standard = claude.tiers.at(ServiceTier::kStandard);
  EXPECT_EQ(standard.base.cache_write, 3'750'000'000);
  EXPECT_EQ(standard.base.cache_write_1h, 6'000'000'000);
  EXPECT_EQ(standard.above_threshold.at(200'000).cache_write, 7'500'000'000);
  EXPECT_EQ(standard.above_threshold.at(200'000).cache_write_1h, 12'000'000'000);

  // DeepSeek's cache-hit alias matches its cache-read price.
  EXPECT_EQ(map->models.at("deepseek-v4-pro").tiers.at(ServiceTier::kStandard).base.cache_read,
            3'625'000);
}

TEST(LiteLlmPriceMapTest, SkipsSampleSpecAndNonTextModesWithoutFailing) {
  absl::StatusOr<LiteLlmPriceMap> map = LoadLiteLlmPriceMap(R"({
    "sample_spec": {"input_cost_per_token": 0.0, "mode": "chat or embedding"},
    "img": {"mode": "image_generation", "input_cost_per_token": "not even a number",
            "output_cost_per_image": 0.04},
    "list": [1, 2, {"a": 3}],
    "scalar": 5,
    "no-output": {"mode": "chat", "input_cost_per_token": 1e-6},
    "ok": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
           "supported_endpoints": ["/v1/chat"], "provider_specific_entry": {"x": 1.23456789}}
  })");
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->models.size(), 1u);
  EXPECT_EQ(map->models.at("ok").mode, "chat");  // missing mode counts as chat
  ASSERT_EQ(map->skipped.size(), 5u);
  EXPECT_EQ(map->skipped[0].name, "sample_spec");
  EXPECT_EQ(map->skipped[1].name, "img");
  EXPECT_TRUE(Contains(map->skipped[1].reason, "image_generation"));
  EXPECT_EQ(map->skipped[4].name, "no-output");
}

TEST(LiteLlmPriceMapTest, ListsPriceLikeKeysItDoesNotUnderstand) {
  absl::StatusOr<LiteLlmPriceMap> map = LoadLiteLlmPriceMap(R"({"m": {
    "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
    "input_cost_per_token_above_128k_tokens": 2e-6,
    "input_cost_per_token_turbo": 9e-6,
    "input_cost_per_audio_token": 1e-4}})");
  ASSERT_TRUE(map.ok()) << map.status();
  EXPECT_EQ(map->models.at("m").tiers.at(ServiceTier::kStandard).above_threshold.at(128'000).input,
            2'000'000'000);
  ASSERT_EQ(map->ignored_price_keys.size(), 1u);
  EXPECT_EQ(map->ignored_price_keys[0], "m: input_cost_per_token_turbo");
}

void ExpectErrorNames(absl::string_view json, absl::string_view model, absl::string_view key) {
  absl::StatusOr<LiteLlmPriceMap> map = LoadLiteLlmPriceMap(json);
  ASSERT_FALSE(map.ok()) << json;
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(map.status().message(), std::string("\"") + std::string(model) + "\""))
      << map.status();
  EXPECT_TRUE(Contains(map.status().message(), std::string("\"") + std::string(key) + "\""))
      << map.status();
}

TEST(LiteLlmPriceMapTest, ErrorsNameTheModelAndTheKey) {
  ExpectErrorNames(R"({"gpt-x": {"input_cost_per_token": "0.000001",
                                  "output_cost_per_token": 2e-6}})",
                   "gpt-x", "input_cost_per_token");
  ExpectErrorNames(R"({"gpt-x": {"input_cost_per_token": 1e-6,
                                  "output_cost_per_token": -2e-6}})",
                   "gpt-x", "output_cost_per_token");
  ExpectErrorNames(R"({"gpt-x": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                                  "cache_read_input_token_cost": 1.5e-16}})",
                   "gpt-x", "cache_read_input_token_cost");
  ExpectErrorNames(R"({"gpt-x": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                                  "output_cost_per_token_priority": null}})",
                   "gpt-x", "output_cost_per_token_priority");
  ExpectErrorNames(R"({"gpt-x": {"mode": 3}})", "gpt-x", "mode");
}

TEST(LiteLlmPriceMapTest, RejectsMalformedDocuments) {
  absl::StatusOr<LiteLlmPriceMap> map = LoadLiteLlmPriceMap(R"({"m": {"mode": "chat",)");
  ASSERT_FALSE(map.ok());
  EXPECT_TRUE(Contains(map.status().message(), "malformed JSON")) << map.status();
  EXPECT_FALSE(LoadLiteLlmPriceMap("[1, 2]").ok());
  EXPECT_FALSE(LoadLiteLlmPriceMap("").ok());
  EXPECT_FALSE(LoadLiteLlmPriceMap("42").ok());

  map = LoadLiteLlmPriceMap(R"({"m": {"mode": "chat"}, "m": {"mode": "chat"}})");
  ASSERT_FALSE(map.ok());
  EXPECT_TRUE(Contains(map.status().message(), "duplicate entry \"m\"")) << map.status();
  map =
      LoadLiteLlmPriceMap(R"({"m": {"input_cost_per_token": 1e-6, "input_cost_per_token": 2e-6}})");
  ASSERT_FALSE(map.ok());
  EXPECT_TRUE(Contains(map.status().message(), "input_cost_per_token")) << map.status();
}

TEST(LiteLlmPriceMapTest, EmptyObjectIsAnEmptyCatalog) {
  absl::StatusOr<LiteLlmPriceMap> map = LoadLiteLlmPriceMap("{}");
  ASSERT_TRUE(map.ok());
  EXPECT_TRUE(map->models.empty());
}

}  // namespace
}  // namespace stepledger::catalog
