// RunQuery: the GetRun use case. Checks the run id, loads the run's stored steps through the
// RunRepository port and assembles them into the tree (run_tree.h), together with the per-run
// counts GetRun shows that the tree itself does not keep (pending, drift, retries, first and
// last started_at).
//
// Blocking: GetRun() blocks on the repository (a database read). Callers on a callback-API
// thread must hand it to a thread they own (transport/run_query_pool.h does).
// Thread safety: GetRun() may be called concurrently if the repository allows it (RunRepository
// requires that). Ownership: does not own the repository.
#ifndef STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_QUERY_H_
#define STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_QUERY_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/runs/run_repository.h"
#include "server/domain/runs/run_tree.h"

namespace stepledger::domain::runs {

// Longest run id accepted, as for tags.parent_run_id at ingest.
inline constexpr size_t kMaxRunIdLength = 128;

// What GetRun answers: the assembled tree plus counts over all of the run's steps (tree,
// orphans and invalid alike).
struct RunView {
  RunTree tree;
  int64_t pending_steps = 0;  // attribution_status pending: the root has not arrived yet.
  int64_t drift_steps = 0;    // tag_drift set.
  int64_t retry_steps = 0;    // attempt > 1.
  // Earliest / latest started_at among the steps that carry one.
  std::optional<absl::Time> first_started_at;
  std::optional<absl::Time> last_started_at;
};

// OK when `run_id` is 1..kMaxRunIdLength printable ASCII; otherwise InvalidArgument whose
// message starts with "run_id: ".
absl::Status ValidateRunId(std::string_view run_id);

// Counts the RunView fields beyond the tree. Pure; exposed for tests of other front ends.
RunView MakeRunView(RunTree tree);

class RunQuery {
 public:
  // REQUIRES: `repository` outlives this object.
  explicit RunQuery(RunRepository& repository) : repository_(repository) {}

  // Errors: InvalidArgument for a malformed run_id (naming the field), and the repository's
  // errors (NotFound for an unknown run, Unavailable, ...).
  absl::StatusOr<RunView> GetRun(std::string_view run_id) const;

 private:
  RunRepository& repository_;
};

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_QUERY_H_
