#include "server/domain/reports/showback_loading.h"

namespace stepledger::domain::reports {

absl::StatusOr<ShowbackReport> LoadShowbackReport(const ShowbackLoader& load,
                                                  const RollupRunner& roll_up,
                                                  const ShowbackPeriod& period, absl::Time now) {
  absl::StatusOr<ShowbackInputs> inputs = load(period.from, period.to, period.environment);
  if (!inputs.ok()) return inputs.status();
  if (period.roll_up_missing && !inputs->missing_days.empty()) {
    if (!roll_up) {
      return absl::FailedPreconditionError("roll_up_missing: this server cannot roll up");
    }
    absl::StatusOr<RollupRunResult> run =
        roll_up(inputs->missing_days.front(), inputs->missing_days.back());
    if (!run.ok()) return run.status();
    // Lock held elsewhere (ran == false): report without those days; missing_days says which.
    if (run->ran) {
      inputs = load(period.from, period.to, period.environment);
      if (!inputs.ok()) return inputs.status();
    }
  }
  return BuildShowback(*inputs, now);
}

}  // namespace stepledger::domain::reports
