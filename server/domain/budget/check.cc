#include "server/domain/budget/check.h"

#include "absl/strings/str_cat.h"
#include "server/domain/budget/string_key.h"

namespace stepledger::domain::budget {
namespace {

bool IsPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

absl::Status CheckKey(Scope scope, std::string_view field, std::string_view value, bool required) {
  if (value.empty()) {
    return required ? absl::InvalidArgumentError(
                          absl::StrCat(AbslView(field), ": required in production"))
                    : absl::OkStatus();
  }
  if (!IsValidScopeKey(scope, value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(field), ": \"", AbslView(value), "\" is malformed"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateCheckRequest(const CheckRequest& request) {
  const Tags& tags = request.tags;
  if (tags.environment == Environment::kUnspecified) {
    return absl::InvalidArgumentError("tags.environment: required");
  }
  const bool production = tags.environment == Environment::kProduction;
  if (absl::Status s = CheckKey(Scope::kFeature, "tags.feature", tags.feature, production);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckKey(Scope::kTeam, "tags.team", tags.team, production); !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckKey(Scope::kTenant, "tags.tenant", tags.tenant, production); !s.ok()) {
    return s;
  }
  if (production && tags.workload_class == WorkloadClass::kUnspecified) {
    return absl::InvalidArgumentError("tags.workload_class: required in production");
  }
  if (production && tags.parent_run_id.empty()) {
    return absl::InvalidArgumentError("tags.parent_run_id: required in production");
  }
  if (tags.parent_run_id.size() > 128 || !IsPrintableAscii(tags.parent_run_id)) {
    return absl::InvalidArgumentError("tags.parent_run_id: 1..128 printable ASCII");
  }
  if (request.estimated_cost_nano_usd < 0) {
    return absl::InvalidArgumentError("estimated_cost_nano_usd: must not be negative");
  }
  if (request.estimated_cost_nano_usd > kMaxLimitNanoUsd) {
    return absl::InvalidArgumentError(
        absl::StrCat("estimated_cost_nano_usd: must be at most ", kMaxLimitNanoUsd));
  }
  if (request.step_id.size() > 128 || !IsPrintableAscii(request.step_id)) {
    return absl::InvalidArgumentError("step_id: at most 128 printable ASCII characters");
  }
  if (request.reserve && request.step_id.empty()) {
    return absl::InvalidArgumentError("step_id: required when reserve is set");
  }
  if (request.now.has_value() &&
      (*request.now == absl::InfinitePast() || *request.now == absl::InfiniteFuture())) {
    return absl::InvalidArgumentError("now: must be finite");
  }
  return absl::OkStatus();
}

}  // namespace stepledger::domain::budget
