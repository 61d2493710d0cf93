// Scheduled upkeep of runs: pending inheritance that waited too long becomes unattributed, and
// the run gauges (open runs, pending, drift, orphan steps) are read.
//
// Safe to call from every replica: a transaction-scoped advisory lock lets one of them do the
// writing work at a time; the others skip it at once.
#ifndef STEPLEDGER_SERVER_STORAGE_RUN_UPKEEP_H_
#define STEPLEDGER_SERVER_STORAGE_RUN_UPKEEP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace stepledger::storage {

// The transaction-scoped advisory lock that lets one replica at a time expire pending
// inheritance or recount orphans ("STPLRUNS"). Whoever holds it holds both jobs back.
inline constexpr int64_t kRunUpkeepLockKey = 0x5354504c52554e53;

// Marks pending steps received before `cutoff` as unattributed (root_never_arrived) and fixes
// their runs' counts. Returns how many steps timed out.
absl::StatusOr<int64_t> ExpirePendingInheritance(const std::string& database_url,
                                                 absl::Time cutoff);

struct OpenRunStats {
  int64_t open_runs = 0;      // runs whose root has not arrived
  int64_t pending_steps = 0;  // steps waiting for their root
  int64_t drift_steps = 0;    // in runs seen within the window
  int64_t orphan_steps = 0;   // parent never seen, in runs seen within the orphan window
  // Whether this call recounted orphans (false: another replica held the run upkeep lock, and
  // orphan_steps is the sum of the counts stored by the last recount), and how many runs it
  // recounted (those changed since the last recount).
  bool orphans_recounted = false;
  int64_t orphan_runs_recounted = 0;
};

// Reads the gauges' values over runs received within `window`.
// Orphans are stored per run (runs.orphan_steps, migration 0024). First, unless another
// replica is doing it, recounts the runs that gained steps since the last recount (from any
// replica), so a tick costs what the traffic since the last tick costs, not what the window
// holds; then sums the stored counts of the runs received within `orphan_window`. Every
// replica must use the same `orphan_window`: the first recount after 0024 counts the runs of
// that window, and a run outside it is recounted only when it gains a step.
absl::StatusOr<OpenRunStats> ReadOpenRunStats(const std::string& database_url,
                                              absl::Duration window,
                                              absl::Duration orphan_window = absl::Hours(1));

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_RUN_UPKEEP_H_
