// What a credential scoped to some teams, features or tenants may see of a showback report
// (docs/SECURITY.md, "Roles and scopes"): a `report-read` key scoped to team:search gets a report
// built only from team search's lines, as if no other team had spent anything.
//
// The filter works on the report's inputs, before BuildShowback, so every total, share, trend and
// export of the report adds up to what the key may see (never a team line beside an org total).
// What cannot be told apart by team, feature or tenant is left out for a scoped key:
//   - rollup and FOCUS rows: kept when their team, feature and tenant are in scope;
//   - tool-owner rows: kept when the charged team and feature are (they carry no tenant, so a
//     tenant-scoped key sees none);
//   - quarantined events, in the rollup and the FOCUS rows (rejected before anyone could be
//   charged) and provider invoices (a
//     provider's bill covers every team): dropped;
//   - budgets and run statistics: kept when the key covers their team, feature or tenant.
// A "*" key sees everything (the inputs are returned unchanged).
//
// Thread safety: a pure function.
#ifndef STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_SCOPE_H_
#define STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_SCOPE_H_

#include "server/domain/auth/scopes.h"
#include "server/domain/reports/showback.h"

namespace stepledger::domain::reports {

ShowbackInputs VisibleInputs(const auth::Scopes& scopes, ShowbackInputs inputs);

}  // namespace stepledger::domain::reports

#endif  // STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_SCOPE_H_
