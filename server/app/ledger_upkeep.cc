#include "server/app/ledger_upkeep.h"

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/storage/partitions.h"
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
  }
}

void LedgerUpkeep::Partitions() {
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  absl::Status s =
      storage::EnsurePartitionsAround(options_.database_url, today, options_.partition_days_ahead);
  if (!s.ok()) log::Warn("partition upkeep failed", {{"error", std::string(s.message())}});
}

}  // namespace stepledger::app
