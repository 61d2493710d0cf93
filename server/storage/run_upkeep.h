// Scheduled upkeep of runs: pending inheritance that waited too long becomes unattributed.
//
// Safe to call from every replica: a transaction-scoped advisory lock lets one of them do the
// work at a time; the others return 0 at once.
#ifndef STEPLEDGER_SERVER_STORAGE_RUN_UPKEEP_H_
#define STEPLEDGER_SERVER_STORAGE_RUN_UPKEEP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace stepledger::storage {

// Marks pending steps received before `cutoff` as unattributed (root_never_arrived) and fixes
// their runs' counts. Returns how many steps timed out.
absl::StatusOr<int64_t> ExpirePendingInheritance(const std::string& database_url,
                                                 absl::Time cutoff);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_RUN_UPKEEP_H_
