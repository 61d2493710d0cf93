#include "server/domain/pricing/price_book.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace stepledger::domain::pricing {

const ModelPrice* PriceVersion::FindModel(absl::string_view provider,
                                          absl::string_view model) const {
  if (model.empty()) return nullptr;
  if (!provider.empty()) {
    if (auto it = models.find(absl::StrCat(provider, "/", model)); it != models.end()) {
      return &it->second;
    }
  }
  absl::string_view name = model;
  while (true) {
    if (auto it = models.find(name); it != models.end()) return &it->second;
    size_t slash = name.find('/');
    if (slash == absl::string_view::npos) return nullptr;
    name.remove_prefix(slash + 1);
  }
}

const ToolPrice* PriceVersion::FindTool(absl::string_view tool_name) const {
  auto it = tools.find(tool_name);
  return it == tools.end() ? nullptr : &it->second;
}

absl::Status PriceBook::Add(PriceVersion version) {
  if (version.id.empty()) return absl::InvalidArgumentError("price version id is empty");
  for (const PriceVersion& existing : versions_) {
    if (existing.id == version.id) {
      return absl::AlreadyExistsError(absl::StrCat("price version \"", version.id, "\" exists"));
    }
    if (existing.effective_from == version.effective_from) {
      return absl::AlreadyExistsError(absl::StrCat("price versions \"", existing.id, "\" and \"",
                                                   version.id, "\" would both take effect at ",
                                                   absl::FormatTime(version.effective_from)));
    }
  }
  auto pos =
      std::upper_bound(versions_.begin(), versions_.end(), version.effective_from,
                       [](absl::Time t, const PriceVersion& v) { return t < v.effective_from; });
  versions_.insert(pos, std::move(version));
  return absl::OkStatus();
}

const PriceVersion* PriceBook::VersionAt(absl::Time at) const {
  // First version strictly after `at`; the one before it is in force.
  auto after =
      std::upper_bound(versions_.begin(), versions_.end(), at,
                       [](absl::Time t, const PriceVersion& v) { return t < v.effective_from; });
  if (after == versions_.begin()) return nullptr;
  return &*std::prev(after);
}

PriceBook::ModelMatch PriceBook::FindModel(absl::string_view provider, absl::string_view model,
                                           absl::Time at) const {
  ModelMatch match;
  match.version = VersionAt(at);
  if (match.version != nullptr) match.price = match.version->FindModel(provider, model);
  return match;
}

const PriceVersion* PriceBook::VersionById(absl::string_view id) const {
  for (const PriceVersion& v : versions_) {
    if (v.id == id) return &v;
  }
  return nullptr;
}

}  // namespace stepledger::domain::pricing
