#include "server/app/ledger_upkeep.h"

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/storage/ledger_retention.h"
#include "server/storage/partitions.h"
#include "server/storage/pg_time.h"
#include "server/storage/run_upkeep.h"

namespace stepledger::app {

void LedgerUpkeep::RunsAndPrices() {
  price_reloader_.RefreshIfChanged().IgnoreError();  // failures are logged inside
  absl::StatusOr<int64_t> expired = storage::ExpirePendingInheritance(
      options_.database_url, absl::Now() - options_.pending_inheritance_wait);
  if (expired.ok()) {
    run_metrics_.OnPendingTimedOut(*expired);
    if (*expired > 0) {
      log::Warn("pending steps timed out: their run's root never arrived",
                {{"steps", absl::StrCat(*expired)}});
    }
  }
  absl::StatusOr<storage::OpenRunStats> stats =
      storage::ReadOpenRunStats(options_.database_url, absl::Hours(24));
  if (stats.ok()) {
    run_metrics_.SetOpenRuns(stats->open_runs, stats->pending_steps, stats->drift_steps);
    run_metrics_.SetOrphanSteps(stats->orphan_steps);
  } else {
    // The gauges keep their last values; say why they stopped moving.
    log::Warn("run gauges not read", {{"error", std::string(stats.status().message())}});
  }
}

void LedgerUpkeep::Partitions() {
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  absl::Status s =
      storage::EnsurePartitionsAround(options_.database_url, today, options_.partition_days_ahead);
  if (!s.ok()) log::Warn("partition upkeep failed", {{"error", std::string(s.message())}});
}

void LedgerUpkeep::Retention() {
  if (options_.retention_days <= 0) return;
  absl::StatusOr<storage::RetentionRun> run = storage::RetireExpiredLedgerDays(
      {.database_url = options_.database_url,
       .keep_days = options_.retention_days,
       .mode = options_.retention_detach ? storage::RetentionMode::kDetach
                                         : storage::RetentionMode::kDrop,
       .today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())});
  if (!run.ok()) {
    retention_metrics_.OnFailure();
    log::Warn("ledger retention failed; the next run tries again",
              {{"error", std::string(run.status().message())}});
    return;
  }
  if (!run->ran) return;  // another replica, or a rollup, holds the lock
  int64_t retired = 0;
  for (const storage::RetiredDay& day : run->days) {
    if (day.outcome != "retired") continue;
    ++retired;
    log::Info("ledger day retired", {{"day", storage::PgDate(day.day)},
                                     {"steps", absl::StrCat(day.steps)},
                                     {"quarantined", absl::StrCat(day.quarantined)}});
  }
  retention_metrics_.OnDaysRetired(retired);
  retention_metrics_.SetBlockedDays(run->blocked_days);
  if (run->blocked_days > 0) {
    const storage::RetiredDay& stop = run->days.back();
    log::Warn("ledger retention held back: roll the day up (stepledger rollup --day D)",
              {{"day", storage::PgDate(stop.day)},
               {"reason", stop.outcome},
               {"days_held", absl::StrCat(run->blocked_days)}});
  }
}

}  // namespace stepledger::app
