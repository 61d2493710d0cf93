#include "server/transport/operation_registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/transport/admin_convert.h"

namespace stepledger::transport {

OperationRegistry::OperationRegistry(const domain::Clock& clock, Options options)
    : clock_(clock), options_(options), ids_(std::random_device{}()) {}

bool OperationRegistry::MakeRoomLocked(absl::Time now) {
  const absl::Time expired_before = now - options_.keep_finished;
  absl::erase_if(operations_, [&](const auto& entry) {
    const v1::Operation& op = entry.second;
    return op.done() && FromProto(op.finished_at()) < expired_before;
  });
  while (operations_.size() >= options_.max_operations) {
    auto oldest = operations_.end();
    for (auto it = operations_.begin(); it != operations_.end(); ++it) {
      if (!it->second.done()) continue;
      if (oldest == operations_.end() ||
          FromProto(it->second.finished_at()) < FromProto(oldest->second.finished_at())) {
        oldest = it;
      }
    }
    if (oldest == operations_.end()) return false;  // All running.
    operations_.erase(oldest);
  }
  return true;
}

absl::StatusOr<v1::Operation> OperationRegistry::Start(std::string_view kind, int64_t units_total) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (!MakeRoomLocked(now)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        options_.max_operations, " operations are running; wait for one to finish and retry"));
  }
  std::string id;
  do {
    id = absl::StrFormat("%016x", ids_());
  } while (operations_.contains(id));
  v1::Operation& op = operations_[id];
  op.set_id(id);
  op.set_kind(std::string(kind));
  op.set_units_total(units_total);
  ToProto(now, op.mutable_started_at());
  return op;
}

void OperationRegistry::Progress(const std::string& id, int64_t units_done, std::string last_unit) {
  absl::MutexLock lock(&mu_);
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  it->second.set_units_done(units_done);
  it->second.set_last_unit(std::move(last_unit));
}

void OperationRegistry::Finish(const std::string& id, const absl::Status& status,
                               const v1::Operation& result) {
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = operations_.find(id);
  if (it == operations_.end()) return;
  v1::Operation& op = it->second;
  if (status.ok()) {
    if (result.has_roll_up()) *op.mutable_roll_up() = result.roll_up();
    if (result.has_reprice()) *op.mutable_reprice() = result.reprice();
  } else {
    op.set_error_code(static_cast<int32_t>(status.code()));
    op.set_error_message(std::string(status.message()));
  }
  op.set_done(true);
  ToProto(now, op.mutable_finished_at());
}

absl::StatusOr<v1::Operation> OperationRegistry::Get(const std::string& id) const {
  const absl::Time expired_before = clock_.Now() - options_.keep_finished;
  absl::MutexLock lock(&mu_);
  auto it = operations_.find(id);
  if (it == operations_.end() ||
      (it->second.done() && FromProto(it->second.finished_at()) < expired_before)) {
    return absl::NotFoundError(
        absl::StrCat("id: no operation '", id, "' on this collector (unknown, finished more than ",
                     absl::FormatDuration(options_.keep_finished),
                     " ago, or started before a restart or on another replica)"));
  }
  return it->second;
}

}  // namespace stepledger::transport
