// Loader for model price maps in LiteLLM's JSON format (model_prices_and_context_window.json):
// an object whose keys are model names and whose values hold per-token USD prices.
//
// Every price is converted from the number's decimal TEXT to FemtoUsd exactly (the JSON is
// read with a SAX handler that keeps each number's original text, never via double). A price
// that is not a number, negative, or finer than 1e-15 USD fails the whole load with an error
// naming the model and the key: a catalog is all or nothing, never partly applied.
//
// Keys understood (see docs/PRICING.md): <base>[_above_1hr][_above_<N>k_tokens][_<tier>] with
//   base: input_cost_per_token, output_cost_per_token, cache_read_input_token_cost,
//         cache_creation_input_token_cost, output_cost_per_reasoning_token
//   _above_1hr: only after cache_creation_input_token_cost (1-hour cache writes)
//   tier: batches | priority | flex
// plus DeepSeek's input_cost_per_token_cache_hit as an alias of cache_read_input_token_cost.
// Audio, image, video, per-second, per-character and search prices are not per text token and
// are ignored. A key that starts like a token price but does not fit the grammar is ignored
// and listed in `ignored_price_keys`, so an operator sees what a newer map adds.
//
// Entries skipped without failing the load (listed in `skipped`): `sample_spec` (LiteLLM's
// documentation entry), values that are not objects, modes other than chat, completion,
// responses and embedding (image generation, audio, realtime are not priced per text token),
// and entries without both input_cost_per_token and output_cost_per_token. A missing `mode`
// counts as chat.
//
// Thread safety: pure function.
#ifndef STEPLEDGER_SERVER_CATALOG_LITELLM_PRICE_MAP_H_
#define STEPLEDGER_SERVER_CATALOG_LITELLM_PRICE_MAP_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/pricing/model_price.h"

namespace stepledger::catalog {

struct SkippedEntry {
  std::string name;
  std::string reason;
};

struct LiteLlmPriceMap {
  absl::flat_hash_map<std::string, domain::pricing::ModelPrice> models;
  std::vector<SkippedEntry> skipped;            // in file order
  std::vector<std::string> ignored_price_keys;  // "model: key", in file order
};

// Errors: InvalidArgument for malformed JSON (with the byte offset), a top level that is not an
// object, duplicate model names or keys, and any bad price (naming model and key).
absl::StatusOr<LiteLlmPriceMap> LoadLiteLlmPriceMap(absl::string_view json_text);

}  // namespace stepledger::catalog

#endif  // STEPLEDGER_SERVER_CATALOG_LITELLM_PRICE_MAP_H_
