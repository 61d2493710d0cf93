// PgOperationStore: the long Admin operations in PostgreSQL (table admin_operations, migration
// 0019), so that GetOperation answers on every replica (domain/operation_store.h).
//
// Connections: the writes come one per rolled-up day, the heartbeat every few seconds and the
// reads with each poll, so the store keeps one connection (re-opened after a failure) and
// serializes its statements on it; each is a single short statement.
// Thread safety: every method may be called from any thread (one mutex).
// libpqxx exceptions never leave this class: they become absl::Status (pg_status.h).
#ifndef STEPLEDGER_SERVER_STORAGE_PG_OPERATION_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_PG_OPERATION_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/operation_store.h"

namespace stepledger::storage {

class PgOperationStore final : public domain::OperationStore {
 public:
  explicit PgOperationStore(std::string database_url);
  ~PgOperationStore() override;

  absl::Status Insert(const domain::OperationRecord& record) override;
  absl::Status Save(const domain::OperationRecord& record) override;
  absl::Status Heartbeat(const std::vector<std::string>& ids) override;
  absl::StatusOr<std::optional<domain::OperationRecord>> Get(std::string_view id) override;
  absl::Status DeleteOld(absl::Duration finished_age, absl::Duration abandoned_age) override;

 private:
  struct Connection;  // pqxx stays out of this header.
  const std::string database_url_;
  absl::Mutex mu_;
  std::unique_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_OPERATION_STORE_H_
