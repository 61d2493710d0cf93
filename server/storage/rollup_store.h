// The daily rollup of the ledger (the view ledger_entries: steps, reprice corrections,
// quarantined events) into rollup_daily, rollup_tool_owner_daily, rollup_quarantine_daily and
// the FOCUS line items rollup_focus_daily, recorded in rollup_days.
//
// Each day is replaced atomically (DELETE + INSERT ... SELECT in one transaction), so re-running
// a day is idempotent and takes in late events; steps received after the day was first rolled
// up are kept apart as charge_class 'Correction'. A run over several days holds a session-level
// advisory lock (kRollupLockKey) for its whole length: when another process holds it, Run()
// returns at once with ran == false, so exactly one replica (or CLI backfill) rolls up at a time.
//
// Thread safety: RollupJob is immutable; each Run() opens its own connection.
#ifndef STEPLEDGER_SERVER_STORAGE_ROLLUP_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_ROLLUP_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "server/domain/reports/rollup_result.h"

namespace stepledger::storage {

// "STPLROLL": the advisory lock every rollup takes. Public so operators (and tests) can see
// who holds it in pg_locks.
inline constexpr int64_t kRollupLockKey = 0x5354504c524f4c4c;

using domain::reports::RollupDayResult;
using domain::reports::RollupRunResult;

class RollupJob {
 public:
  struct Options {
    std::string database_url;
    // Called once the lock is held, before the first day (lets a caller observe or hold the
    // locked section, e.g. to show a second job backing off).
    std::function<void()> on_locked;
    // Called after each day's transaction committed, oldest first (progress for a caller
    // that reports it, e.g. Admin.StartRollUp). Returning false stops the run after that day
    // (a collector shutting down); the result then lists only the days done.
    std::function<bool(const RollupDayResult&)> on_day;
  };

  explicit RollupJob(Options options) : options_(std::move(options)) {}

  // Rolls up [from, to] (inclusive), one transaction per day, oldest first.
  // REQUIRES: from <= to.
  absl::StatusOr<RollupRunResult> Run(absl::CivilDay from, absl::CivilDay to) const;

 private:
  const Options options_;
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_ROLLUP_STORE_H_
