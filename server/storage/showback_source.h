// Reads what a showback report needs from PostgreSQL: rollup rows, tool-owner and quarantine
// rollups, cost per run from `runs`, budgets (when the budgets table exists) and invoices.
// Also imports invoices (audited).
//
// Thread safety: stateless; every call opens its own connection and read-only transaction.
#ifndef STEPLEDGER_SERVER_STORAGE_SHOWBACK_SOURCE_H_
#define STEPLEDGER_SERVER_STORAGE_SHOWBACK_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "server/domain/auth/audit.h"
#include "server/domain/reports/showback.h"

namespace stepledger::storage {

// REQUIRES: from <= to. `environment` "" means all environments.
absl::StatusOr<domain::reports::ShowbackInputs> LoadShowbackInputs(const std::string& database_url,
                                                                   absl::CivilDay from,
                                                                   absl::CivilDay to,
                                                                   const std::string& environment);

// Sets (or replaces) each invoice's monthly total, all in one transaction with the admin_audit
// row (admin_audit.h) naming `actor`: every month is stored and audited, or none.
absl::Status ImportInvoices(const std::string& database_url,
                            const std::vector<domain::reports::Invoice>& invoices,
                            const std::string& source, const domain::auth::AuditActor& actor);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_SHOWBACK_SOURCE_H_
