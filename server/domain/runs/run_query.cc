#include "server/domain/runs/run_query.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace stepledger::domain::runs {
namespace {

void CountStep(const StepRecord& r, RunView& view) {
  if (r.attribution_status == AttributionStatus::kPending) ++view.pending_steps;
  if (r.tag_drift) ++view.drift_steps;
  if (r.attempt > 1) ++view.retry_steps;
  if (r.started_at.has_value()) {
    if (!view.first_started_at.has_value() || *r.started_at < *view.first_started_at) {
      view.first_started_at = r.started_at;
    }
    if (!view.last_started_at.has_value() || *r.started_at > *view.last_started_at) {
      view.last_started_at = r.started_at;
    }
  }
}

}  // namespace

absl::Status ValidateRunId(std::string_view run_id) {
  if (run_id.empty()) return absl::InvalidArgumentError("run_id: must not be empty");
  if (run_id.size() > kMaxRunIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("run_id: longer than ", kMaxRunIdLength, " characters (", run_id.size(), ")"));
  }
  for (char c : run_id) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError("run_id: must be printable ASCII");
    }
  }
  return absl::OkStatus();
}

RunView MakeRunView(RunTree tree) {
  RunView view;
  view.tree = std::move(tree);
  for (const RunNode& node : view.tree.nodes) CountStep(node.step, view);
  for (const InvalidStep& inv : view.tree.invalid) CountStep(inv.step, view);
  return view;
}

absl::StatusOr<RunView> RunQuery::GetRun(std::string_view run_id) const {
  if (absl::Status s = ValidateRunId(run_id); !s.ok()) return s;
  absl::StatusOr<std::vector<StepRecord>> steps = repository_.LoadRunSteps(run_id);
  if (!steps.ok()) return steps.status();
  if (steps->empty()) {
    // The port promises NotFound for this; hold the line here too, so an empty run never
    // reaches the caller as a tree without steps.
    return absl::NotFoundError(absl::StrCat("run '", std::string(run_id), "' has no stored steps"));
  }
  return MakeRunView(AssembleRun(run_id, std::move(*steps)));
}

}  // namespace stepledger::domain::runs
