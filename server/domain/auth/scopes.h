// What a credential may act for: "*" (everything), or teams, features and tenants, written
// "team:search", "feature:inbox-triage", "tenant:acme". Deny by default: a credential with no
// scope at all acts for nothing.
//
// Matching tags: every dimension the credential names must match (a key scoped to
// "team:search" and "tenant:acme" writes only steps of team search for tenant acme); a
// dimension it does not name is free. A missing tag never matches a named dimension.
#ifndef STEPLEDGER_SERVER_DOMAIN_AUTH_SCOPES_H_
#define STEPLEDGER_SERVER_DOMAIN_AUTH_SCOPES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "server/domain/step.h"

namespace stepledger::domain::auth {

struct ScopeViolation {
  std::string field;   // "tags.team", "tags.feature", "tags.tenant", or "scope"
  std::string reason;  // says which value is outside which scope
};

class Scopes {
 public:
  Scopes() = default;  // No scope: nothing is allowed.
  static Scopes All();
  // InvalidArgument naming the entry for anything but "*" or kind:value.
  static absl::StatusOr<Scopes> Parse(const std::vector<std::string>& entries);

  bool all() const { return all_; }
  bool empty() const { return !all_ && teams_.empty() && features_.empty() && tenants_.empty(); }
  // The entries in their written form, sorted by kind then value.
  std::vector<std::string> Entries() const;

  // Why a step (or a check) with these tags is outside the scopes; nullopt: inside.
  std::optional<ScopeViolation> Check(std::string_view team, std::string_view feature,
                                      std::string_view tenant) const;
  std::optional<ScopeViolation> Check(const Tags& tags) const {
    return Check(tags.team, tags.feature, tags.tenant);
  }
  // Whether the credential covers one team, feature or tenant entirely ("team", "feature",
  // "tenant"; "org" needs "*").
  bool Covers(std::string_view kind, std::string_view key) const;
  // Whether the credential names this team, feature or tenant at all (lists show those).
  bool Mentions(std::string_view kind, std::string_view key) const;
  // Whether report lines of this team / feature / tenant may be shown.
  bool Shows(std::string_view team, std::string_view feature, std::string_view tenant) const {
    return !Check(team, feature, tenant).has_value();
  }
  bool NamesTeams() const { return !teams_.empty(); }
  bool NamesFeatures() const { return !features_.empty(); }
  bool NamesTenants() const { return !tenants_.empty(); }

 private:
  bool all_ = false;
  absl::flat_hash_set<std::string> teams_;
  absl::flat_hash_set<std::string> features_;
  absl::flat_hash_set<std::string> tenants_;
};

}  // namespace stepledger::domain::auth

#endif  // STEPLEDGER_SERVER_DOMAIN_AUTH_SCOPES_H_
