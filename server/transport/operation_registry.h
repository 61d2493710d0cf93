// OperationRegistry: the long Admin operations (StartRollUp, StartReprice) a client polls by id
// with GetOperation (admin.proto). It only keeps their state; the work runs on the admin pool
// and reports here.
//
// Memory bound: at most `max_operations` operations. Start() first drops finished operations
// older than `keep_finished`, then, when still full, the oldest finished one; when every slot
// holds a running operation it fails with ResourceExhausted (running work is never forgotten).
// A restart forgets everything: the operations are idempotent and can be started again.
//
// Ids are 64 random bits in hex, so an id from before a restart, or from another replica, is
// unknown (NotFound) rather than someone else's operation.
//
// Thread safety: every method may be called from any thread (one mutex; no method blocks on
// anything but it, so gRPC callback threads may call them).
#ifndef STEPLEDGER_SERVER_TRANSPORT_OPERATION_REGISTRY_H_
#define STEPLEDGER_SERVER_TRANSPORT_OPERATION_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"
#include "stepledger/v1/admin.pb.h"

namespace stepledger::transport {

class OperationRegistry {
 public:
  struct Options {
    size_t max_operations = 64;
    absl::Duration keep_finished = absl::Hours(1);
  };

  // REQUIRES: `clock` outlives the registry; options.max_operations > 0.
  explicit OperationRegistry(const domain::Clock& clock) : OperationRegistry(clock, Options{}) {}
  OperationRegistry(const domain::Clock& clock, Options options);

  // Registers a running operation of `kind`; `units_total` 0 when not known in advance.
  absl::StatusOr<v1::Operation> Start(std::string_view kind, int64_t units_total);

  // A running operation got further. Unknown ids are ignored (none while it runs).
  void Progress(const std::string& id, int64_t units_done, std::string last_unit);

  // The operation is done: with `status`, and when it is OK the result set in `result`
  // (its `result` oneof; the other fields are the registry's).
  void Finish(const std::string& id, const absl::Status& status, const v1::Operation& result);

  // A copy of the operation. NotFound naming the id when unknown or expired.
  absl::StatusOr<v1::Operation> Get(const std::string& id) const;

 private:
  // Drops expired finished operations, then the oldest finished while full. True when a slot
  // is free afterwards.
  bool MakeRoomLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const domain::Clock& clock_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::mt19937_64 ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, v1::Operation> operations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_OPERATION_REGISTRY_H_
