// OperationStore port: where the long Admin operations (rollup, reprice, what-if) are recorded
// so that every replica can answer GetOperation for any of them, not only the one running it
// (in the collector: storage::PgOperationStore, table admin_operations, migration 0019).
//
// The replica running an operation writes it (Insert once, Save on progress and at the end)
// and refreshes its heartbeat; a reader judges a running operation whose heartbeat is older
// than a lease as abandoned (its replica died). Heartbeat ages are measured by the store's own
// clock (the database's), so replicas' clock skew does not enter.
//
// Thread safety: implementations may be called from several threads at once. Every method
// blocks (database I/O): never call one from a gRPC callback thread.
#ifndef STEPLEDGER_SERVER_DOMAIN_OPERATION_STORE_H_
#define STEPLEDGER_SERVER_DOMAIN_OPERATION_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace stepledger::domain {

struct OperationRecord {
  enum class State { kRunning, kSucceeded, kFailed };

  std::string id;
  std::string kind;  // "rollup", "reprice", "whatif".
  State state = State::kRunning;
  int64_t units_done = 0;
  int64_t units_total = 0;  // 0: not known in advance.
  std::string last_unit;
  std::string result;  // The result as its writer encodes it (JSON); "" until it succeeds.
  int error_code = 0;  // Once failed: the gRPC status code.
  std::string error_message;
  std::string owner;  // The replica running it ("host:pid"), for operators.
  absl::Time started_at = absl::InfinitePast();
  std::optional<absl::Time> finished_at;
  // Read only: how long ago its heartbeat was last refreshed, by the store's clock.
  absl::Duration heartbeat_age = absl::ZeroDuration();
};

class OperationStore {
 public:
  virtual ~OperationStore() = default;

  // Records a new operation with a fresh heartbeat.
  virtual absl::Status Insert(const OperationRecord& record) = 0;
  // Replaces the operation's state, progress, result and error (by id), refreshing its
  // heartbeat.
  virtual absl::Status Save(const OperationRecord& record) = 0;
  // Refreshes the heartbeat of those of `ids` that are still running.
  virtual absl::Status Heartbeat(const std::vector<std::string>& ids) = 0;
  // nullopt when no operation has that id.
  virtual absl::StatusOr<std::optional<OperationRecord>> Get(std::string_view id) = 0;
  // Deletes operations finished more than `finished_age` ago, and running ones whose
  // heartbeat is older than `abandoned_age`.
  virtual absl::Status DeleteOld(absl::Duration finished_age, absl::Duration abandoned_age) = 0;
};

}  // namespace stepledger::domain

#endif  // STEPLEDGER_SERVER_DOMAIN_OPERATION_STORE_H_
