// Readiness of the database for the gRPC health service: reachable, and every migration this
// binary embeds is applied (so a collector never reports SERVING against an older schema).
//
// Opens a short-lived connection per call (health is checked every few seconds).
// Thread safety: may be called from any thread.
#ifndef STEPLEDGER_SERVER_STORAGE_PG_HEALTH_H_
#define STEPLEDGER_SERVER_STORAGE_PG_HEALTH_H_

#include <string>

#include "absl/status/status.h"

namespace stepledger::storage {

// OK when ready; Unavailable when unreachable (not logged: a down database is reported by the
// health status itself); FailedPrecondition when migrations are missing; otherwise the
// classified storage error (pg_status.h).
absl::Status CheckDatabaseReady(const std::string& database_url);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_HEALTH_H_
