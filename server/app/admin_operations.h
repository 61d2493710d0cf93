// AdminOperations: the long Admin operations' state for the whole fleet (issue 16): the
// OperationRegistry the Admin service reports to, written through to PostgreSQL
// (storage::PgOperationStore, table admin_operations) so that GetOperation answers on every
// replica, and the heartbeat that keeps this replica's running operations alive there (and
// deletes old rows) every `heartbeat_interval`. A replica that dies stops heartbeating; after
// the registry's lease (30 s) readers report its operations abandoned.
//
// Thread safety: registry() is thread-safe (see OperationRegistry). Lifetime: the service
// using registry() must go before this object.
#ifndef STEPLEDGER_SERVER_APP_ADMIN_OPERATIONS_H_
#define STEPLEDGER_SERVER_APP_ADMIN_OPERATIONS_H_

#include <string>

#include "absl/time/time.h"
#include "server/app/periodic_task.h"
#include "server/domain/clock.h"
#include "server/storage/pg_operation_store.h"
#include "server/transport/operation_registry.h"

namespace stepledger::app {

class AdminOperations {
 public:
  // REQUIRES: `clock` outlives this object; heartbeat_interval well below the lease (30 s).
  AdminOperations(const std::string& database_url, const domain::Clock& clock,
                  absl::Duration heartbeat_interval = absl::Seconds(5));

  transport::OperationRegistry& registry() { return registry_; }

 private:
  storage::PgOperationStore store_;
  transport::OperationRegistry registry_;
  PeriodicTask heartbeat_;  // Last: stops first.
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_ADMIN_OPERATIONS_H_
