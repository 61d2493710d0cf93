#include "server/domain/reports/showback_scope.h"

#include <algorithm>
#include <vector>

namespace stepledger::domain::reports {
namespace {

template <typename T, typename Keep>
void KeepOnly(std::vector<T>& rows, Keep keep) {
  rows.erase(std::remove_if(rows.begin(), rows.end(), [&](const T& row) { return !keep(row); }),
             rows.end());
}

}  // namespace

ShowbackInputs VisibleInputs(const auth::Scopes& scopes, ShowbackInputs inputs) {
  if (scopes.all()) return inputs;
  KeepOnly(inputs.rows,
           [&](const RollupRow& r) { return scopes.Shows(r.team, r.feature, r.tenant); });
  KeepOnly(inputs.focus_rows, [&](const FocusRow& r) {
    return r.source != "quarantine" && scopes.Shows(r.team, r.feature, r.tenant);
  });
  KeepOnly(inputs.tool_owner_rows, [&](const ToolOwnerRow& r) {
    return scopes.Shows(r.charged_team, r.charged_feature, "");
  });
  KeepOnly(inputs.run_stats, [&](const RunStats& r) { return scopes.Covers(r.scope, r.key); });
  KeepOnly(inputs.budgets, [&](const BudgetCap& b) { return scopes.Covers(b.scope, b.key); });
  inputs.quarantine_rows.clear();
  inputs.invoices.clear();
  return inputs;
}

}  // namespace stepledger::domain::reports
