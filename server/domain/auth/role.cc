#include "server/domain/auth/role.h"

#include "absl/strings/str_cat.h"

namespace stepledger::domain::auth {
namespace {

constexpr std::string_view kNames[kRoleCount] = {
    "ingest", "check", "acknowledge", "budget-admin", "report-read", "price-admin", "admin"};

}  // namespace

std::string_view RoleName(Role role) { return kNames[static_cast<int>(role)]; }

absl::StatusOr<Role> ParseRole(std::string_view name) {
  for (int i = 0; i < kRoleCount; ++i) {
    if (kNames[i] == name) return static_cast<Role>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "role: unknown role \"", std::string(name),
      "\" (one of ingest, check, acknowledge, budget-admin, report-read, price-admin, admin)"));
}

absl::StatusOr<RoleSet> ParseRoles(const std::vector<std::string>& names) {
  if (names.empty()) return absl::InvalidArgumentError("roles: at least one role is required");
  RoleSet set = 0;
  for (const std::string& name : names) {
    absl::StatusOr<Role> role = ParseRole(name);
    if (!role.ok()) return role.status();
    set |= Bit(*role);
  }
  return set;
}

std::vector<std::string> RoleNames(RoleSet roles) {
  std::vector<std::string> out;
  for (int i = 0; i < kRoleCount; ++i) {
    if (roles & Bit(static_cast<Role>(i))) out.emplace_back(kNames[i]);
  }
  return out;
}

}  // namespace stepledger::domain::auth
