#include "server/storage/cap_row.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "server/storage/pg_budget_store.h"

namespace stepledger::storage {

using domain::budget::Cap;

absl::StatusOr<Cap> CapFromRow(const pqxx::row& row, int first) {
  const auto col = [&](int i) { return row[first + i]; };
  Cap cap;
  cap.id = col(0).as<std::string>();
  auto scope = ParseScope(col(1).as<std::string>());
  auto env = ParseEnvironment(col(3).as<std::string>());
  auto period = ParsePeriod(col(4).as<std::string>());
  auto action = ParseAction(col(6).as<std::string>());
  auto stale_policy = ParseStalePolicy(
      col(11).as<std::string>(), action.ok() ? *action : domain::budget::Action::kUnspecified);
  if (!scope.ok() || !env.ok() || !period.ok() || !action.ok() || !stale_policy.ok()) {
    return absl::InternalError(absl::StrCat("budgets row ", cap.id, " is malformed"));
  }
  cap.scope = *scope;
  cap.key = col(2).as<std::string>();
  cap.environment = *env;
  cap.period = *period;
  cap.limit_nano_usd = col(5).as<int64_t>();
  cap.action = *action;
  cap.alert_threshold_bps = col(7).as<int32_t>();
  cap.owner = col(8).as<std::string>();
  cap.signed_off_by = col(9).as<std::string>();
  cap.shadow = col(10).as<bool>();
  cap.stale_policy = *stale_policy;
  cap.revision = col(12).as<int64_t>();
  cap.changed_by = col(13).as<std::string>();
  return cap;
}

std::string CapRowJson(const Cap& cap) {
  nlohmann::json j;
  j["id"] = cap.id;
  j["scope"] = std::string(domain::budget::ToString(cap.scope));
  j["key"] = cap.key;
  j["environment"] = std::string(domain::ToString(cap.environment));
  j["period"] = std::string(domain::budget::ToString(cap.period));
  j["limit_nano_usd"] = cap.limit_nano_usd;
  j["action"] = std::string(domain::budget::ToString(cap.action));
  j["alert_threshold_bps"] = cap.alert_threshold_bps;
  j["owner"] = cap.owner;
  j["signed_off_by"] = cap.signed_off_by;
  j["shadow"] = cap.shadow;
  j["stale_policy"] = std::string(domain::budget::ToString(cap.stale_policy));
  return j.dump();
}

}  // namespace stepledger::storage
