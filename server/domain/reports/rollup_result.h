// What one rollup run did, day by day: the answer of storage::RollupJob::Run and of
// Admin.RollUp. Plain values.
#ifndef STEPLEDGER_SERVER_DOMAIN_REPORTS_ROLLUP_RESULT_H_
#define STEPLEDGER_SERVER_DOMAIN_REPORTS_ROLLUP_RESULT_H_

#include <cstdint>
#include <vector>

#include "absl/time/civil_time.h"

namespace stepledger::domain::reports {

struct RollupDayResult {
  absl::CivilDay day;
  bool first_roll = false;
  int64_t source_rows = 0;  // ledger steps of the day
  int64_t total_cost_nano_usd = 0;
  int64_t correction_cost_nano_usd = 0;
  // The day's raw ledger was retired (docs/OPERATING.md, "Retention"): its rollup is final
  // and was left as it was; the totals above are the stored ones.
  bool retired = false;
};

struct RollupRunResult {
  bool ran = false;  // false: another process holds the rollup lock
  std::vector<RollupDayResult> days;
};

}  // namespace stepledger::domain::reports

#endif  // STEPLEDGER_SERVER_DOMAIN_REPORTS_ROLLUP_RESULT_H_
