#include "server/domain/auth/scopes.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace stepledger::domain::auth {
namespace {

std::optional<ScopeViolation> CheckOne(const absl::flat_hash_set<std::string>& allowed,
                                       const std::string& kind, std::string_view value_view) {
  const std::string value(value_view);
  if (allowed.empty() || allowed.contains(value)) return std::nullopt;
  if (value.empty()) {
    return ScopeViolation{absl::StrCat("tags.", kind),
                          absl::StrCat("missing; the credential is scoped to certain ", kind,
                                       "s, so the ", kind, " tag is required")};
  }
  return ScopeViolation{absl::StrCat("tags.", kind),
                        absl::StrCat(kind, " \"", value, "\" is outside the credential's scope")};
}

}  // namespace

Scopes Scopes::All() {
  Scopes s;
  s.all_ = true;
  return s;
}

absl::StatusOr<Scopes> Scopes::Parse(const std::vector<std::string>& entries) {
  Scopes s;
  for (const std::string& entry : entries) {
    if (entry == "*") {
      s.all_ = true;
      continue;
    }
    const size_t colon = entry.find(':');
    const std::string kind = entry.substr(0, colon);
    const std::string value = colon == std::string::npos ? "" : entry.substr(colon + 1);
    absl::flat_hash_set<std::string>* set = kind == "team"      ? &s.teams_
                                            : kind == "feature" ? &s.features_
                                            : kind == "tenant"  ? &s.tenants_
                                                                : nullptr;
    if (set == nullptr || value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("scopes: \"", entry,
                       "\" is not a scope (\"*\", team:NAME, feature:NAME or tenant:NAME)"));
    }
    set->insert(value);
  }
  return s;
}

std::vector<std::string> Scopes::Entries() const {
  std::vector<std::string> out;
  if (all_) out.emplace_back("*");
  for (const auto& [kind, set] : {std::pair{"team", &teams_}, std::pair{"feature", &features_},
                                  std::pair{"tenant", &tenants_}}) {
    std::vector<std::string> values(set->begin(), set->end());
    std::sort(values.begin(), values.end());
    for (const std::string& v : values) out.push_back(absl::StrCat(kind, ":", v));
  }
  return out;
}

std::optional<ScopeViolation> Scopes::Check(std::string_view team, std::string_view feature,
                                            std::string_view tenant) const {
  if (all_) return std::nullopt;
  if (empty()) return ScopeViolation{"scope", "the credential has no scope"};
  if (auto v = CheckOne(teams_, "team", team)) return v;
  if (auto v = CheckOne(features_, "feature", feature)) return v;
  return CheckOne(tenants_, "tenant", tenant);
}

bool Scopes::Mentions(std::string_view kind, std::string_view key) const {
  if (all_) return true;
  const std::string k(key);
  if (kind == "team") return teams_.contains(k);
  if (kind == "feature") return features_.contains(k);
  if (kind == "tenant") return tenants_.contains(k);
  return false;
}

bool Scopes::Covers(std::string_view kind, std::string_view key) const {
  if (all_) return true;
  // Covering a whole team means no other dimension narrows the credential.
  const int named = !teams_.empty() + !features_.empty() + !tenants_.empty();
  if (named != 1) return false;
  const std::string k(key);
  if (kind == "team") return teams_.contains(k);
  if (kind == "feature") return features_.contains(k);
  if (kind == "tenant") return tenants_.contains(k);
  return false;  // "org": only "*"
}

}  // namespace stepledger::domain::auth
