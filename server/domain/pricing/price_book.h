// Price versions and the book that holds them.
//
// A PriceVersion is one load of the model and tool catalogs with the time from which it is in
// force. A step is priced by the version in force when it occurred: the one with the greatest
// effective_from <= occurred_at. Versions are never edited in place; a catalog fix is a new
// version, so past costs can be explained and re-priced as explicit corrections.
//
// Model lookup rule (PriceVersion::FindModel), first hit wins:
//  1. "<provider>/<model>" when provider is not empty (upstream LiteLLM maps carry
//     provider-specific entries such as "azure/gpt-4o" whose prices differ);
//  2. the model name exactly as sent;
//  3. the model name with its leading "<prefix>/" segments removed one at a time, so
//     "openai/gpt-4o" and "openrouter/openai/gpt-4o" both find "gpt-4o".
// Matching is case-sensitive. The step's provider is not otherwise checked against the
// catalog's provider: gateways spell providers inconsistently, and the model name is what
// carries the price. A model missing from the version in force is unknown even if an older
// version had it.
//
// Thread safety: PriceVersion and PriceBook are values with no internal locking; share an
// immutable instance (e.g. std::shared_ptr<const PriceBook>) and swap it on reload.
#ifndef STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_BOOK_H_
#define STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_BOOK_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/pricing/model_price.h"
#include "server/domain/pricing/tool_price.h"

namespace stepledger::domain::pricing {

struct PriceVersion {
  std::string id;
  absl::Time effective_from = absl::InfinitePast();
  absl::flat_hash_map<std::string, ModelPrice> models;  // key: catalog model name
  absl::flat_hash_map<std::string, ToolPrice> tools;    // key: tool name

  // Applies the lookup rule above. Returns nullptr when no form matches. The pointer is valid
  // while this version is alive and unmodified.
  const ModelPrice* FindModel(absl::string_view provider, absl::string_view model) const;
  // Exact, case-sensitive tool name.
  const ToolPrice* FindTool(absl::string_view tool_name) const;
};

class PriceBook {
 public:
  // Adds a version. Fails with AlreadyExists when the id or the effective_from time is already
  // taken (two versions in force from the same instant would make pricing ambiguous), and with
  // InvalidArgument when the id is empty.
  absl::Status Add(PriceVersion version);

  // The version in force at `at`: greatest effective_from <= at. nullptr when `at` precedes
  // every version. Pointers stay valid until the next Add.
  const PriceVersion* VersionAt(absl::Time at) const;

  // The version in force at `at` and the model's price in it (lookup rule above). `version`
  // is nullptr when no version is in force; `price` is nullptr when that version does not
  // know the model. For `stepledger prices show` and PriceStep.
  struct ModelMatch {
    const PriceVersion* version = nullptr;
    const ModelPrice* price = nullptr;
  };
  ModelMatch FindModel(absl::string_view provider, absl::string_view model, absl::Time at) const;

  // The version with this id, or nullptr.
  const PriceVersion* VersionById(absl::string_view id) const;

  // Versions ordered by effective_from, oldest first.
  const std::vector<PriceVersion>& versions() const { return versions_; }

 private:
  std::vector<PriceVersion> versions_;  // sorted by effective_from, strictly increasing
};

}  // namespace stepledger::domain::pricing

#endif  // STEPLEDGER_SERVER_DOMAIN_PRICING_PRICE_BOOK_H_
