// The one place where libpqxx exceptions become absl::Status. Nothing else in storage/ may let
// a pqxx exception cross a module boundary.
//
// A status made here is safe to send to a client: its message is one of the stable phrases
// below followed by " (ref <id>)", never the exception's text, which can carry SQL, SQLSTATEs,
// bound parameter values and the database's host and port. That detail is logged once, here,
// under the same ref (server/common/error_ref.h); docs/API.md, "Errors", lists the phrases.
//
//   broken connection, SQLSTATE 08xxx,    -> Unavailable        "database unreachable; retry"
//     57P01..57P03 (shutdown, cannot connect now)
//   commit outcome unknown (in_doubt)      -> Unavailable        "commit outcome unknown; re-send
//                                                                  with the same event ids"
//   serialization failure / deadlock       -> Aborted            "transaction conflict; retry"
//   constraint violation                   -> FailedPrecondition "storage constraint violated"
//   anything else                          -> Internal           "storage error; see collector
//                                                                  log"
//
// Thread safety: may be called from any thread (it only reads the current exception and logs).
#ifndef STEPLEDGER_SERVER_STORAGE_PG_STATUS_H_
#define STEPLEDGER_SERVER_STORAGE_PG_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace stepledger::storage {

// The phrases a client sees; callers may test a status for them (absl::StrContains).
inline constexpr absl::string_view kDatabaseUnreachable = "database unreachable; retry";
inline constexpr absl::string_view kCommitOutcomeUnknown =
    "commit outcome unknown; re-send with the same event ids";
inline constexpr absl::string_view kTransactionConflict = "transaction conflict; retry";
inline constexpr absl::string_view kConstraintViolated = "storage constraint violated";
inline constexpr absl::string_view kStorageError = "storage error; see collector log";

// Call from inside a catch block: classifies the current exception, logs its detail with
// `context` (what was being done, e.g. "commit group"; goes to the log only) and returns the
// client-safe status.
absl::Status CurrentExceptionToStatus(absl::string_view context);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_STATUS_H_
