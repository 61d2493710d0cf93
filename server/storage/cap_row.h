// The budgets row <-> domain Cap, for every query that selects a cap's columns in the order
// of STEPLEDGER_CAP_COLUMNS (cap_change_queries.h): id, scope, key, environment, period,
// limit_nano_usd, action, alert_threshold_bps, owner, signed_off_by, shadow, stale_policy
// ('' = the action's default), revision, changed_by.
#ifndef STEPLEDGER_SERVER_STORAGE_CAP_ROW_H_
#define STEPLEDGER_SERVER_STORAGE_CAP_ROW_H_

#include <pqxx/pqxx>
#include <string>

#include "absl/status/statusor.h"
#include "server/domain/budget/cap.h"

namespace stepledger::storage {

// The 14 columns starting at `first`. Internal when a stored value is not one the domain
// knows (a row edited by hand).
absl::StatusOr<domain::budget::Cap> CapFromRow(const pqxx::row& row, int first = 0);

// The cap as a budgets row in JSON (the form budget_audit and budget_proposals keep), without
// revision and changed_by (the store's).
std::string CapRowJson(const domain::budget::Cap& cap);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_CAP_ROW_H_
