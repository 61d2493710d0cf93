// RunRepository: the port through which the run query reads one run's stored steps.
//
// Implementations read the ledger (storage/pg_run_repository.h) or memory (tests). They return
// every stored step of the run once, in no particular order: AssembleRun() makes the result
// independent of order.
//
// Thread safety: implementations must be safe to call from several threads at once (GetRun
// calls arrive on gRPC threads and run on the query pool).
#ifndef STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_REPOSITORY_H_
#define STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_REPOSITORY_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/runs/step_record.h"

namespace stepledger::domain::runs {

class RunRepository {
 public:
  virtual ~RunRepository() = default;

  // The stored steps whose parent_run_id is `run_id`.
  // Errors: NotFound when the run has no stored step; ResourceExhausted when it has more steps
  //   than the implementation will load at once; Unavailable when the store is unreachable.
  virtual absl::StatusOr<std::vector<StepRecord>> LoadRunSteps(std::string_view run_id) = 0;
};

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_SERVER_DOMAIN_RUNS_RUN_REPOSITORY_H_
