// PgRunRepository: reads one run's stored steps from the ledger for GetRun.
//
// One named, parameterised SELECT over `steps` by parent_run_id (served by the steps_run
// index on every partition) in a read-only transaction with a statement timeout, committed
// explicitly. Rows are projected into StepRecords; AssembleRun does the rest.
//
// Connections: a small pool, not one connection behind a mutex. GetRun calls arrive on gRPC
// threads and run on the transport's query pool (several threads); one shared connection
// would serialise them all behind the slowest run, while a connection per call would pay a
// connect (and a backend start) per GetRun. The pool opens at most `max_connections`
// connections lazily, keeps them idle between calls, drops broken ones, and makes a caller
// wait while all are busy. Size it to the number of threads that call LoadRunSteps.
// A call that fails because an idle connection broke (the database restarted) is retried once
// on a fresh connection: the read is side-effect free.
//
// Thread safety: LoadRunSteps is safe to call from any number of threads.
// libpqxx exceptions never leave this class: they become absl::Status (pg_status.h).
#ifndef STEPLEDGER_SERVER_STORAGE_PG_RUN_REPOSITORY_H_
#define STEPLEDGER_SERVER_STORAGE_PG_RUN_REPOSITORY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/runs/run_repository.h"

namespace stepledger::storage {

class PgRunRepository final : public domain::runs::RunRepository {
 public:
  struct Options {
    std::string database_url;
    // Connections open at most (busy + idle). REQUIRES: >= 1.
    int max_connections = 4;
    // A run with more stored steps than this is refused (ResourceExhausted) rather than
    // assembled: outside production every untagged step shares the run "(unattributed)".
    int64_t max_run_steps = 100'000;
    // Server-side limit on the SELECT.
    absl::Duration statement_timeout = absl::Seconds(10);
  };

  explicit PgRunRepository(Options options);
  ~PgRunRepository() override;

  PgRunRepository(const PgRunRepository&) = delete;
  PgRunRepository& operator=(const PgRunRepository&) = delete;

  // See RunRepository. Errors: NotFound (no stored step), ResourceExhausted (more than
  // max_run_steps), Unavailable (database unreachable), Internal (unexpected rows).
  absl::StatusOr<std::vector<domain::runs::StepRecord>> LoadRunSteps(
      std::string_view run_id) override;

 private:
  struct Connection;  // wraps pqxx::connection, so this header stays free of libpqxx

  // Blocks while max_connections are busy. Returns an idle connection, or opens one.
  // `reused` tells whether it was idle before (and so may have broken unnoticed).
  absl::StatusOr<std::unique_ptr<Connection>> Acquire(bool& reused);
  // Keeps an open connection for the next caller; forgets a broken one (or nullptr).
  void Release(std::unique_ptr<Connection> connection);
  absl::StatusOr<std::vector<domain::runs::StepRecord>> LoadOnce(Connection& connection,
                                                                 std::string_view run_id);

  const Options options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // Busy + idle; never above max_connections.
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_RUN_REPOSITORY_H_
