#include "server/catalog/litellm_price_map.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/catalog/raw_json_entries.h"
#include "server/domain/pricing/money.h"
#include "server/domain/pricing/service_tier.h"

namespace stepledger::catalog {
namespace {

using domain::pricing::FemtoUsd;
using domain::pricing::ModelPrice;
using domain::pricing::ServiceTier;
using domain::pricing::TokenRates;

constexpr absl::string_view kSampleSpec = "sample_spec";
constexpr absl::string_view kCacheHitAlias = "input_cost_per_token_cache_hit";
constexpr std::array<absl::string_view, 4> kPricedModes = {"chat", "completion", "responses",
                                                           "embedding"};

// Where one LiteLLM key puts its price.
struct PriceKey {
  std::optional<FemtoUsd> TokenRates::*field;
  ServiceTier tier = ServiceTier::kStandard;
  std::optional<int64_t> threshold_tokens;
};

enum class KeyMatch { kPrice, kNotAPrice, kUnrecognised };

// Parses "<base>[_above_1hr][_above_<N>k_tokens][_<tier>]" (see the header).
KeyMatch ParsePriceKey(absl::string_view key, PriceKey* out) {
  static constexpr std::array<std::pair<absl::string_view, std::optional<FemtoUsd> TokenRates::*>,
                              5>
      kBases = {{
          {"cache_creation_input_token_cost", &TokenRates::cache_write},
          {"cache_read_input_token_cost", &TokenRates::cache_read},
          {"input_cost_per_token", &TokenRates::input},
          {"output_cost_per_token", &TokenRates::output},
          {"output_cost_per_reasoning_token", &TokenRates::reasoning},
      }};
  absl::string_view rest;
  bool matched = false;
  for (const auto& [base, field] : kBases) {
    if (absl::StartsWith(key, base) && (key.size() == base.size() || key[base.size()] == '_')) {
      out->field = field;
      rest = key.substr(base.size());
      matched = true;
      break;
    }
  }
  if (!matched) return KeyMatch::kNotAPrice;

  if (out->field == &TokenRates::cache_write && absl::ConsumePrefix(&rest, "_above_1hr")) {
    out->field = &TokenRates::cache_write_1h;
  }
  if (absl::StartsWith(rest, "_above_")) {
    absl::string_view band = rest.substr(7);
    size_t tokens_end = band.find("_tokens");
    if (tokens_end == absl::string_view::npos || tokens_end < 2) return KeyMatch::kUnrecognised;
    char scale = band[tokens_end - 1];
    int64_t multiplier = scale == 'k' ? 1000 : scale == 'm' ? 1'000'000 : 0;
    int64_t count = 0;
    if (multiplier == 0 || !absl::SimpleAtoi(band.substr(0, tokens_end - 1), &count) ||
        count <= 0 || count > INT64_MAX / multiplier) {
      return KeyMatch::kUnrecognised;
    }
    out->threshold_tokens = count * multiplier;
    rest = band.substr(tokens_end + 7);
  }
  if (!rest.empty()) {
    if (rest.front() != '_') return KeyMatch::kUnrecognised;
    std::optional<ServiceTier> tier = domain::pricing::ParseServiceTier(rest.substr(1));
    if (!tier || *tier == ServiceTier::kStandard) return KeyMatch::kUnrecognised;
    out->tier = *tier;
  }
  return KeyMatch::kPrice;
}

absl::Status FieldError(absl::string_view model, absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("model \"", model, "\": key \"", key, "\": ", why));
}

absl::StatusOr<FemtoUsd> ParsePrice(absl::string_view model, absl::string_view key,
                                    const RawValue& value) {
  if (value.kind != RawValue::Kind::kNumber) {
    return FieldError(model, key, absl::StrCat("expected a number, got ", ToString(value.kind)));
  }
  absl::StatusOr<FemtoUsd> price = domain::pricing::ParseUsdDecimal(value.text);
  if (!price.ok()) return FieldError(model, key, price.status().message());
  return price;
}

// Converts one entry; nullopt with *skip_reason set when it is skipped.
absl::StatusOr<std::optional<ModelPrice>> ConvertEntry(
    const RawEntry& entry, std::string* skip_reason, std::vector<std::string>* ignored_price_keys) {
  if (entry.name == kSampleSpec) {
    *skip_reason = "LiteLLM documentation entry";
    return std::nullopt;
  }
  if (!entry.fields) {
    *skip_reason = "value is not an object";
    return std::nullopt;
  }
  ModelPrice price;
  price.name = entry.name;
  price.mode = "chat";
  // Mode first: entries that are skipped must not fail the load over keys we never use.
  for (const auto& [key, value] : *entry.fields) {
    if (key != "mode" && key != "litellm_provider") continue;
    if (value.kind != RawValue::Kind::kString) {
      return FieldError(entry.name, key,
                        absl::StrCat("expected a string, got ", ToString(value.kind)));
    }
    (key == "mode" ? price.mode : price.provider) = value.text;
  }
  if (std::find(kPricedModes.begin(), kPricedModes.end(), price.mode) == kPricedModes.end()) {
    *skip_reason = absl::StrCat("mode \"", price.mode, "\" is not priced per text token");
    return std::nullopt;
  }
  std::optional<FemtoUsd> cache_hit_alias;
  for (const auto& [key, value] : *entry.fields) {
    if (key == kCacheHitAlias) {
      absl::StatusOr<FemtoUsd> parsed = ParsePrice(entry.name, key, value);
      if (!parsed.ok()) return parsed.status();
      cache_hit_alias = *parsed;
      continue;
    }
    PriceKey price_key;
    switch (ParsePriceKey(key, &price_key)) {
      case KeyMatch::kNotAPrice:
        continue;
      case KeyMatch::kUnrecognised:
        ignored_price_keys->push_back(absl::StrCat(entry.name, ": ", key));
        continue;
      case KeyMatch::kPrice:
        break;
    }
    absl::StatusOr<FemtoUsd> parsed = ParsePrice(entry.name, key, value);
    if (!parsed.ok()) return parsed.status();
    domain::pricing::TierPrices& tier = price.tiers[price_key.tier];
    TokenRates& rates =
        price_key.threshold_tokens ? tier.above_threshold[*price_key.threshold_tokens] : tier.base;
    rates.*price_key.field = *parsed;
  }
  TokenRates& standard = price.tiers[ServiceTier::kStandard].base;
  if (!standard.input || !standard.output) {
    *skip_reason = "no input_cost_per_token and output_cost_per_token";
    return std::nullopt;
  }
  // The explicit key wins over DeepSeek's alias whatever their order in the file.
  if (!standard.cache_read) standard.cache_read = cache_hit_alias;
  return price;
}

}  // namespace

absl::StatusOr<LiteLlmPriceMap> LoadLiteLlmPriceMap(absl::string_view json_text) {
  absl::StatusOr<std::vector<RawEntry>> entries = ReadRawJsonEntries(json_text);
  if (!entries.ok()) return entries.status();
  LiteLlmPriceMap map;
  for (const RawEntry& entry : *entries) {
    std::string skip_reason;
    absl::StatusOr<std::optional<ModelPrice>> price =
        ConvertEntry(entry, &skip_reason, &map.ignored_price_keys);
    if (!price.ok()) return price.status();
    if (!*price) {
      map.skipped.push_back({entry.name, std::move(skip_reason)});
      continue;
    }
    map.models.emplace(entry.name, std::move(**price));
  }
  return map;
}

}  // namespace stepledger::catalog
