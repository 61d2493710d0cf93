// Loading a showback report: the one sequence that the Reports service (Reports.GetShowback)
// and the nightly report files share. The inputs come through ports, so this stays free of SQL
// and of gRPC: in the collector the loader is storage::LoadShowbackInputs and the rollup runner
// is storage::RollupJob::Run (Admin.RollUp's work).
//
//   1. load the inputs of [from, to];
//   2. when asked to roll up missing days and some are missing: roll up exactly those, then
//      load again (when another rollup holds the lock, report without them: missing_days still
//      lists them);
//   3. build the report (BuildShowback).
//
// Thread safety: a pure function of its ports; they must be callable from the calling thread.
#ifndef STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_LOADING_H_
#define STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_LOADING_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "server/domain/reports/rollup_result.h"
#include "server/domain/reports/showback.h"

namespace stepledger::domain::reports {

// Loads the report inputs for [from, to] (inclusive UTC days); environment "" = all.
using ShowbackLoader = std::function<absl::StatusOr<ShowbackInputs>(
    absl::CivilDay from, absl::CivilDay to, const std::string& environment)>;
// Rolls up [from, to].
using RollupRunner =
    std::function<absl::StatusOr<RollupRunResult>(absl::CivilDay from, absl::CivilDay to)>;

struct ShowbackPeriod {
  absl::CivilDay from, to;  // REQUIRES: from <= to
  std::string environment;  // "" = all
  bool roll_up_missing = false;
};

// Steps 1 to 3 above. Without `roll_up` (null), a period with missing days and
// roll_up_missing fails with FAILED_PRECONDITION.
absl::StatusOr<ShowbackReport> LoadShowbackReport(const ShowbackLoader& load,
                                                  const RollupRunner& roll_up,
                                                  const ShowbackPeriod& period, absl::Time now);

}  // namespace stepledger::domain::reports

#endif  // STEPLEDGER_SERVER_DOMAIN_REPORTS_SHOWBACK_LOADING_H_
