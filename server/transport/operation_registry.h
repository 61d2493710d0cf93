// OperationRegistry: the long Admin operations (StartRollUp, StartReprice, StartWhatIf) a
// client polls by id with GetOperation (admin.proto). It only keeps their state; the work runs
// on the admin pool and reports here.
//
// Two views. In memory: the operations this replica runs, answered without I/O (Get). In the
// OperationStore, when one is given (PostgreSQL, table admin_operations): every replica's
// operations, written through as this replica's progress, so that Lookup on any replica
// answers for any operation. The running replica refreshes each running operation's heartbeat
// (Heartbeat(), every few seconds from the collector's upkeep); a reader reports a running
// operation whose heartbeat is older than `lease` as done with ABORTED ("abandoned": its
// replica died or lost its database), so no operation stays running forever.
//
// Memory bound: at most `max_operations` operations in memory. Start() first drops finished
// operations older than `keep_finished`, then, when still full, the oldest finished one; when
// every slot holds a running operation it fails with ResourceExhausted (running work is never
// forgotten). The store keeps a finished operation as long (Heartbeat deletes older rows).
//
// Ids are 64 random bits in hex, so an id from before a restart is unknown rather than
// someone else's operation.
//
// Thread safety: every method may be called from any thread (one mutex, never held during
// I/O). Start, Get and Progress-without-store never block but on the mutex (gRPC callback
// threads may call them); Publish, Progress, Finish, Lookup and Heartbeat write to or read
// from the store: REQUIRES not on a callback thread.
#ifndef STEPLEDGER_SERVER_TRANSPORT_OPERATION_REGISTRY_H_
#define STEPLEDGER_SERVER_TRANSPORT_OPERATION_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"
#include "server/domain/operation_store.h"
#include "stepledger/v1/admin.pb.h"

namespace stepledger::transport {

class OperationRegistry {
 public:
  struct Options {
    size_t max_operations = 64;
    absl::Duration keep_finished = absl::Hours(1);
    // A running operation whose heartbeat is older is reported abandoned. Several heartbeat
    // intervals, so that a slow database or a long pause does not abandon live work.
    absl::Duration lease = absl::Seconds(30);
    std::string owner;  // This replica, as recorded with its operations ("host:pid").
  };

  // REQUIRES: `clock` (and `store`, when not null) outlive the registry;
  // options.max_operations > 0.
  explicit OperationRegistry(const domain::Clock& clock)
      : OperationRegistry(clock, Options{}, nullptr) {}
  OperationRegistry(const domain::Clock& clock, Options options,
                    domain::OperationStore* store = nullptr);

  // Registers a running operation of `kind` in memory; `units_total` 0 when not known.
  absl::StatusOr<v1::Operation> Start(std::string_view kind, int64_t units_total);

  // Records a started operation in the store (no-op without one), so that other replicas see
  // it. Until it succeeds, only this replica knows the operation.
  absl::Status Publish(const std::string& id);

  // A running operation got further. Unknown ids are ignored (none while it runs).
  void Progress(const std::string& id, int64_t units_done, std::string last_unit);

  // The operation is done: with `status`, and when it is OK the result set in `result`
  // (its `result` oneof; the other fields are the registry's). When the store cannot take
  // it, Heartbeat() tries again.
  void Finish(const std::string& id, const absl::Status& status, const v1::Operation& result);

  // A copy of one of this replica's operations. NotFound naming the id when unknown here.
  absl::StatusOr<v1::Operation> Get(const std::string& id) const;

  // Get, else the store's record (any replica's), judged against the lease. NotFound naming
  // the id when neither knows it; the store's error when it cannot be read.
  absl::StatusOr<v1::Operation> Lookup(const std::string& id) const;

  // Refreshes the heartbeat of this replica's running operations, saves finished ones the
  // store missed, and deletes rows older than keep_finished (abandoned: plus the lease).
  // No-op without a store.
  absl::Status Heartbeat();

 private:
  // Drops expired finished operations, then the oldest finished while full. True when a slot
  // is free afterwards.
  bool MakeRoomLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The store's record of `op` (a copy taken under the lock).
  domain::OperationRecord ToRecord(const v1::Operation& op) const;
  // The operation a record describes, abandoned when its heartbeat is past the lease.
  v1::Operation FromRecord(const domain::OperationRecord& record) const;
  absl::Status NotFound(const std::string& id) const;

  const domain::Clock& clock_;
  const Options options_;
  domain::OperationStore* const store_;
  mutable absl::Mutex mu_;
  std::mt19937_64 ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, v1::Operation> operations_ ABSL_GUARDED_BY(mu_);
  // Finished operations whose final state the store has not taken yet.
  absl::flat_hash_set<std::string> unsaved_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_OPERATION_REGISTRY_H_
