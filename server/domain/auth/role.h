// Roles a credential can hold (docs/SECURITY.md, "Roles"). A role names a kind of work; which
// methods each role may call is method_policy.h's table, in one place.
#ifndef STEPLEDGER_SERVER_DOMAIN_AUTH_ROLE_H_
#define STEPLEDGER_SERVER_DOMAIN_AUTH_ROLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace stepledger::domain::auth {

enum class Role : uint8_t {
  kIngest,       // StreamSteps, OTLP trace export: write steps for its scopes
  kCheck,        // CheckBudget for its scopes
  kAcknowledge,  // Acknowledge caps on its scopes
  kBudgetAdmin,  // create, change, delete caps on its scopes
  kReportRead,   // showback (its scopes' lines), runs, caps, acknowledgements
  kPriceAdmin,   // price catalogs, reprices, invoices
  kAdmin,        // keys, rollups; and every other role's methods
};
inline constexpr int kRoleCount = 7;

// A set of roles as bits (1 << Role).
using RoleSet = uint32_t;
constexpr RoleSet Bit(Role r) { return RoleSet{1} << static_cast<int>(r); }

std::string_view RoleName(Role role);  // "ingest", "budget-admin", ...
// InvalidArgument naming the value and the accepted names.
absl::StatusOr<Role> ParseRole(std::string_view name);
absl::StatusOr<RoleSet> ParseRoles(const std::vector<std::string>& names);
std::vector<std::string> RoleNames(RoleSet roles);

}  // namespace stepledger::domain::auth

#endif  // STEPLEDGER_SERVER_DOMAIN_AUTH_ROLE_H_
