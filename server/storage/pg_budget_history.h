// Reads past ledger rows for the budget what-if replay (`stepledger budget whatif`): who was
// charged (the charged tags, as live counters charge them), environment, run, cost and when.
//
// Thread safety: stateless; every call opens its own connection and a read-only snapshot
// transaction, so the rows are consistent with each other even while collectors write.
#ifndef STEPLEDGER_SERVER_STORAGE_PG_BUDGET_HISTORY_H_
#define STEPLEDGER_SERVER_STORAGE_PG_BUDGET_HISTORY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/budget/what_if.h"
#include "server/domain/step.h"

namespace stepledger::storage {

// The steps that occurred in [since, until) in the given environments (empty: all), ordered by
// occurred_at as domain::budget::WhatIf requires. An unpriced step counts as cost 0 (the live
// counters do not charge it either). Every row is held in memory: about 200 bytes a step.
// REQUIRES: since <= until.
absl::StatusOr<std::vector<domain::budget::HistoricalStep>> LoadBudgetHistory(
    const std::string& database_url, absl::Time since, absl::Time until,
    const std::vector<domain::Environment>& environments);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_BUDGET_HISTORY_H_
