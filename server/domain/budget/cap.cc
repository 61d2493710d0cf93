#include "server/domain/budget/cap.h"

#include "absl/strings/str_cat.h"
#include "server/domain/budget/string_key.h"

namespace stepledger::domain::budget {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// [a-z0-9][a-z0-9._-]{0,63}: DESIGN.md's form for feature and team.
bool IsSlug(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// [A-Za-z0-9][A-Za-z0-9._:-]{0,127}: DESIGN.md's form for tenant.
bool IsTenantId(std::string_view s) {
  if (s.empty() || s.size() > 128 || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != ':' && c != '-') return false;
  }
  return true;
}

bool IsPrintableId(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string_view ToString(Scope v) {
  switch (v) {
    case Scope::kFeature:
      return "feature";
    case Scope::kTeam:
      return "team";
    case Scope::kTenant:
      return "tenant";
    case Scope::kOrg:
      return "org";
    case Scope::kUnspecified:
      break;
  }
  return "unspecified";
}

std::string_view ToString(Period v) {
  switch (v) {
    case Period::kDaily:
      return "daily";
    case Period::kMonthly:
      return "monthly";
    case Period::kUnspecified:
      break;
  }
  return "unspecified";
}

std::string_view ToString(Action v) {
  switch (v) {
    case Action::kAlert:
      return "alert";
    case Action::kRequireAck:
      return "require_ack";
    case Action::kUnspecified:
      break;
  }
  return "unspecified";
}

std::string_view ToString(StalePolicy v) {
  switch (v) {
    case StalePolicy::kAnswer:
      return "answer";
    case StalePolicy::kAlert:
      return "alert";
    case StalePolicy::kRequireAck:
      return "require_ack";
    case StalePolicy::kUnspecified:
      break;
  }
  return "unspecified";
}

StalePolicy DefaultStalePolicy(Action action) {
  return action == Action::kRequireAck ? StalePolicy::kRequireAck : StalePolicy::kAlert;
}

Action DefaultAction(Scope scope) {
  switch (scope) {
    case Scope::kTeam:
    case Scope::kOrg:
      return Action::kRequireAck;
    case Scope::kFeature:
    case Scope::kTenant:
    case Scope::kUnspecified:
      break;
  }
  return Action::kAlert;
}

Cap ApplyCapDefaults(Cap cap) {
  if (cap.action == Action::kUnspecified && cap.scope != Scope::kUnspecified) {
    cap.action = DefaultAction(cap.scope);
  }
  if (cap.stale_policy == StalePolicy::kUnspecified && cap.action != Action::kUnspecified) {
    cap.stale_policy = DefaultStalePolicy(cap.action);
  }
  return cap;
}

bool IsValidScopeKey(Scope scope, std::string_view key) {
  switch (scope) {
    case Scope::kFeature:
    case Scope::kTeam:
      return IsSlug(key);
    case Scope::kTenant:
      return IsTenantId(key);
    case Scope::kOrg:
      return key == kOrgKey;
    case Scope::kUnspecified:
      break;
  }
  return false;
}

absl::Status ValidateCap(const Cap& cap) {
  if (!IsPrintableId(cap.id, 128)) {
    return absl::InvalidArgumentError("id: required, 1..128 printable ASCII without spaces");
  }
  if (cap.scope == Scope::kUnspecified) {
    return absl::InvalidArgumentError("scope: required (feature, team, tenant or org)");
  }
  if (!IsValidScopeKey(cap.scope, cap.key)) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: \"", cap.key, "\" is not a valid ", AbslView(ToString(cap.scope)),
                     " key", cap.scope == Scope::kOrg ? " (the org cap's key is \"*\")" : ""));
  }
  if (cap.environment == Environment::kUnspecified) {
    return absl::InvalidArgumentError("environment: required (production, staging or eval)");
  }
  if (cap.period == Period::kUnspecified) {
    return absl::InvalidArgumentError("period: required (daily or monthly)");
  }
  if (cap.limit_nano_usd < 0 || cap.limit_nano_usd > kMaxLimitNanoUsd) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit_nano_usd: must be in [0, ", kMaxLimitNanoUsd, "]"));
  }
  if (cap.action == Action::kUnspecified) {
    return absl::InvalidArgumentError("action: unresolved; call ApplyCapDefaults first");
  }
  if (cap.stale_policy == StalePolicy::kUnspecified) {
    return absl::InvalidArgumentError("stale_policy: unresolved; call ApplyCapDefaults first");
  }
  // An alert-only cap never blocks on its figures; blocking on stale ones would make the
  // database's absence stricter than the cap itself.
  if (cap.stale_policy == StalePolicy::kRequireAck && cap.action != Action::kRequireAck) {
    return absl::InvalidArgumentError(
        "stale_policy: require_ack needs a require_ack cap (this cap's action is alert); use "
        "answer or alert");
  }
  if (cap.alert_threshold_bps < 1 || cap.alert_threshold_bps > kBasisPointsPerWhole) {
    return absl::InvalidArgumentError(
        "alert_threshold_bps: must be in [1, 10000] basis points of the limit");
  }
  if (cap.owner.empty()) return absl::InvalidArgumentError("owner: required");
  // No rule on signed_off_by: a sign-off is a second credential's approval recorded by the
  // collector (cap_governance.h), never a field a caller fills in, and a cap awaiting it is
  // enforced all the same.
  return absl::OkStatus();
}

}  // namespace stepledger::domain::budget
