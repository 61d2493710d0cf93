// When the nightly rollup runs, and which days it re-runs.
//
// Every replica runs a RollupScheduler; the rollup function it is handed takes a PostgreSQL
// advisory lock, so exactly one replica does the work and the others return at once. At the
// configured UTC time of day the scheduler rolls up the last `days_back` whole days
// ([today - days_back, today - 1]): yesterday is closed, and the days before it take in late
// events. A failed run is retried after `retry_after`.
//
// Thread safety: not thread-safe; Tick() is called from one upkeep thread. The Clock is only
// read, and must outlive the scheduler.
#ifndef STEPLEDGER_SERVER_DOMAIN_REPORTS_ROLLUP_SCHEDULER_H_
#define STEPLEDGER_SERVER_DOMAIN_REPORTS_ROLLUP_SCHEDULER_H_

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"

namespace stepledger::domain::reports {

struct RollupScheduleOptions {
  absl::Duration time_of_day = absl::Minutes(30);  // UTC, in [0, 24h)
  int days_back = 3;                               // >= 1
  absl::Duration retry_after = absl::Minutes(10);
};

// Parses "HH:MM" (UTC) into an offset from midnight.
absl::StatusOr<absl::Duration> ParseTimeOfDay(const std::string& text);

// The first instant strictly after `after` that is `time_of_day` past a UTC midnight.
absl::Time NextRunTime(absl::Time after, absl::Duration time_of_day);

struct DayRange {
  absl::CivilDay from, to;  // inclusive
};

// The days a run at `now` rolls up: [today - days_back, today - 1] (UTC).
DayRange DaysToRoll(absl::Time now, int days_back);

class RollupScheduler {
 public:
  // Rolls up [from, to]; OK also when another replica holds the lock.
  using RollupFn = absl::AnyInvocable<absl::Status(const DayRange&)>;

  RollupScheduler(const Clock& clock, RollupScheduleOptions options, RollupFn rollup);

  // Runs the rollup if its time has come. Returns true when it ran (successfully or not).
  bool Tick();

  absl::Time next_run() const { return next_run_; }

 private:
  const Clock& clock_;
  const RollupScheduleOptions options_;
  RollupFn rollup_;
  absl::Time next_run_;
};

}  // namespace stepledger::domain::reports

#endif  // STEPLEDGER_SERVER_DOMAIN_REPORTS_ROLLUP_SCHEDULER_H_
