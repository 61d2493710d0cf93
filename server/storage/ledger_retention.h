// Ledger retention: retires the raw ledger of days older than the retention, oldest first,
// keeping their rollups (migration 0020, docs/OPERATING.md "Retention").
//
// A day is retired only when its rollup still equals its ledger (retire_ledger_day checks it
// under a lock on the day's partition); the first day that cannot be retired stops the run,
// so the retired days are always every day before some date, and a run never loses steps of a
// run it keeps. The work holds the rollup advisory lock (kRollupLockKey): exactly one replica
// retires at a time, never while a rollup runs; the others return at once with ran == false.
//
// Thread safety: free function; each call opens its own connection.
#ifndef STEPLEDGER_SERVER_STORAGE_LEDGER_RETENTION_H_
#define STEPLEDGER_SERVER_STORAGE_LEDGER_RETENTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace stepledger::storage {

enum class RetentionMode { kDrop, kDetach };

struct RetentionOptions {
  std::string database_url;
  // Days of raw ledger kept before today (UTC). Days before today - keep_days - 1 are retired:
  // the extra day is the margin for replicas' clocks, since ingest accepts events up to
  // keep_days old (ValidationLimits::max_age).
  int keep_days = 0;
  RetentionMode mode = RetentionMode::kDrop;
  absl::CivilDay today;
  int max_days_per_run = 31;  // bounds one run's work (and the locks it takes)
  // How long retiring one day may wait for its partition's lock before giving up until the
  // next run (writers of that day, and readers, would otherwise queue behind it).
  absl::Duration lock_timeout = absl::Seconds(2);
};

struct RetiredDay {
  absl::CivilDay day;
  std::string outcome;  // 'retired', or why not: 'not_rolled_up', 'rollup_differs'
  int64_t steps = 0;
  int64_t quarantined = 0;
  int64_t corrections = 0;
};

struct RetentionRun {
  bool ran = false;              // false: another replica (or a rollup) holds the rollup lock
  std::vector<RetiredDay> days;  // retired days, then the one that stopped the run (if any)
  // Days past the retention that could not be retired (the stopping day and every later one).
  int64_t blocked_days = 0;
};

// The last day that is retired (inclusive) for `options`.
absl::CivilDay LastRetiredDay(const RetentionOptions& options);

// Retires due days, oldest first; see the header comment. Partitions, quarantined events and
// event keys decide which days hold data.
absl::StatusOr<RetentionRun> RetireExpiredLedgerDays(const RetentionOptions& options);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_LEDGER_RETENTION_H_
