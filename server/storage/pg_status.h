// The one place where libpqxx exceptions become absl::Status. Nothing else in storage/ may let
// a pqxx exception cross a module boundary.
//
//   broken connection                       -> Unavailable (re-send is safe)
//   commit outcome unknown (in_doubt_error) -> Unavailable (re-send is safe: idempotent)
//   serialization failure / deadlock        -> Aborted (retry the transaction)
//   constraint violation                    -> FailedPrecondition
//   anything else                           -> Internal
#ifndef STEPLEDGER_SERVER_STORAGE_PG_STATUS_H_
#define STEPLEDGER_SERVER_STORAGE_PG_STATUS_H_

#include <exception>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace stepledger::storage {

// Call from inside a catch block: classifies the current exception.
absl::Status CurrentExceptionToStatus(absl::string_view context);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_STATUS_H_
