// MemoryOperationStore: domain::OperationStore in memory, for tests of what several replicas
// sharing one store see. Heartbeat ages are measured on the clock it is given (the store's
// clock, as the database's in PgOperationStore). `fail_writes` makes every write fail with
// Unavailable, as a database that cannot be reached.
#ifndef STEPLEDGER_TESTS_FAKES_MEMORY_OPERATION_STORE_H_
#define STEPLEDGER_TESTS_FAKES_MEMORY_OPERATION_STORE_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/domain/clock.h"
#include "server/domain/operation_store.h"

namespace stepledger::testing {

class MemoryOperationStore final : public domain::OperationStore {
 public:
  explicit MemoryOperationStore(const domain::Clock& clock) : clock_(clock) {}

  absl::Status Insert(const domain::OperationRecord& record) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes) return absl::UnavailableError("database unreachable; retry");
    if (rows_.contains(record.id)) return absl::AlreadyExistsError(record.id);
    rows_[record.id] = {record, clock_.Now()};
    return absl::OkStatus();
  }
  absl::Status Save(const domain::OperationRecord& record) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes) return absl::UnavailableError("database unreachable; retry");
    auto it = rows_.find(record.id);
    if (it != rows_.end()) it->second = {record, clock_.Now()};
    return absl::OkStatus();
  }
  absl::Status Heartbeat(const std::vector<std::string>& ids) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes) return absl::UnavailableError("database unreachable; retry");
    for (const std::string& id : ids) {
      auto it = rows_.find(id);
      if (it != rows_.end() &&
          it->second.record.state == domain::OperationRecord::State::kRunning) {
        it->second.heartbeat_at = clock_.Now();
      }
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<domain::OperationRecord>> Get(std::string_view id) override {
    absl::MutexLock lock(&mu_);
    auto it = rows_.find(std::string(id));
    if (it == rows_.end()) return std::optional<domain::OperationRecord>();
    domain::OperationRecord r = it->second.record;
    r.heartbeat_age = clock_.Now() - it->second.heartbeat_at;
    return std::optional<domain::OperationRecord>(r);
  }
  absl::Status DeleteOld(absl::Duration finished_age, absl::Duration abandoned_age) override {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    std::erase_if(rows_, [&](const auto& entry) {
      const Row& row = entry.second;
      if (row.record.finished_at.has_value()) return *row.record.finished_at < now - finished_age;
      return row.heartbeat_at < now - abandoned_age;
    });
    return absl::OkStatus();
  }

  size_t size() {
    absl::MutexLock lock(&mu_);
    return rows_.size();
  }

  bool fail_writes = false;  // Set before the writes it should affect (not synchronized).

 private:
  struct Row {
    domain::OperationRecord record;
    absl::Time heartbeat_at;
  };
  const domain::Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, Row> rows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_MEMORY_OPERATION_STORE_H_
