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

struct OpenRunStats {
  int64_t open_runs = 0;      // runs whose root has not arrived
  int64_t pending_steps = 0;  // steps waiting for their root
  int64_t drift_steps = 0;    // in runs seen within the window
  int64_t orphan_steps = 0;   // parent never seen, in runs seen within the orphan window
};

// Reads the gauges' values over runs received within `window`.
// Orphans are counted over runs active within `orphan_window` (a join per step: keep it short).
absl::StatusOr<OpenRunStats> ReadOpenRunStats(const std::string& database_url,
                                              absl::Duration window,
                                              absl::Duration orphan_window = absl::Hours(1));

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_RUN_UPKEEP_H_
