// admin_audit (migration 0018): the record of reprices, invoice imports and price versions,
// each naming the credential that made it (domain/auth/audit.h). RecordAdminAudit() writes in
// the caller's transaction, so the row commits or rolls back with the change it records; the
// stores that make those changes (PgPriceStore, ImportInvoices) are its only writers.
//
// Thread safety: stateless functions. libpqxx exceptions from RecordAdminAudit() propagate to
// the caller's transaction handling (which turns them into absl::Status); ListAdminAudit()
// returns a Status itself.
#ifndef STEPLEDGER_SERVER_STORAGE_ADMIN_AUDIT_H_
#define STEPLEDGER_SERVER_STORAGE_ADMIN_AUDIT_H_

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/auth/audit.h"

namespace stepledger::storage {

// Inserts one row in `txn`. Throws (and so aborts the caller's transaction) when the row is
// refused, e.g. an actor without an identity.
void RecordAdminAudit(pqxx::work& txn, std::string_view action,
                      const domain::auth::AuditActor& actor, const nlohmann::json& detail);

// The newest `limit` rows, newest first. REQUIRES: limit > 0.
absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> ListAdminAudit(
    const std::string& database_url, int limit);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_ADMIN_AUDIT_H_
