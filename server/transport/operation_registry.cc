#include "server/transport/operation_registry.h"

#include <google/protobuf/util/json_util.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/log.h"
#include "server/transport/admin_convert.h"

namespace stepledger::transport {
namespace {

using domain::OperationRecord;

// The result oneof alone, as JSON (readable in the table by an operator).
std::string ResultJson(const v1::Operation& op) {
  if (op.result_case() == v1::Operation::RESULT_NOT_SET) return "";
  v1::Operation only_result;
  if (op.has_roll_up()) *only_result.mutable_roll_up() = op.roll_up();
  if (op.has_reprice()) *only_result.mutable_reprice() = op.reprice();
  if (op.has_what_if()) *only_result.mutable_what_if() = op.what_if();
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(only_result, &json).ok()) return "";
  return json;
}

void WarnStoreFailed(std::string_view what, const std::string& id, const absl::Status& status) {
  log::Warn("operation store write failed; other replicas see this operation late",
            {{"what", std::string(what)}, {"id", id}, {"error", std::string(status.message())}});
}

}  // namespace

OperationRegistry::OperationRegistry(const domain::Clock& clock, Options options,
                                     domain::OperationStore* store)
    : clock_(clock), options_(std::move(options)), store_(store), ids_(std::random_device{}()) {}

bool OperationRegistry::MakeRoomLocked(absl::Time now) {
  const absl::Time expired_before = now - options_.keep_finished;
  absl::erase_if(operations_, [&](const auto& entry) {
    const v1::Operation& op = entry.second;
    return op.done() && FromProto(op.finished_at()) < expired_before &&
           !unsaved_.contains(entry.first);
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
    unsaved_.erase(oldest->first);
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

OperationRecord OperationRegistry::ToRecord(const v1::Operation& op) const {
  OperationRecord r;
  r.id = op.id();
  r.kind = op.kind();
  r.state = !op.done()             ? OperationRecord::State::kRunning
            : op.error_code() == 0 ? OperationRecord::State::kSucceeded
                                   : OperationRecord::State::kFailed;
  r.units_done = op.units_done();
  r.units_total = op.units_total();
  r.last_unit = op.last_unit();
  r.result = ResultJson(op);
  r.error_code = op.error_code();
  r.error_message = op.error_message();
  r.owner = options_.owner;
  r.started_at = FromProto(op.started_at());
  if (op.done()) r.finished_at = FromProto(op.finished_at());
  return r;
}

v1::Operation OperationRegistry::FromRecord(const OperationRecord& r) const {
  v1::Operation op;
  op.set_id(r.id);
  op.set_kind(r.kind);
  op.set_units_done(r.units_done);
  op.set_units_total(r.units_total);
  op.set_last_unit(r.last_unit);
  ToProto(r.started_at, op.mutable_started_at());
  if (r.state == OperationRecord::State::kRunning) {
    if (r.heartbeat_age <= options_.lease) return op;
    // Its replica stopped refreshing it: it died, or lost the database for longer than the
    // lease. Either way nobody will finish it; say so rather than "running" forever.
    op.set_done(true);
    ToProto(clock_.Now() - r.heartbeat_age, op.mutable_finished_at());
    op.set_error_code(static_cast<int32_t>(absl::StatusCode::kAborted));
    op.set_error_message(
        absl::StrCat("abandoned: collector ", r.owner, " stopped updating this operation ",
                     absl::FormatDuration(absl::Trunc(r.heartbeat_age, absl::Seconds(1))),
                     " ago (it stopped or lost its database) after ", r.units_done,
                     " unit(s); the work is idempotent: start it again"));
    return op;
  }
  op.set_done(true);
  if (r.finished_at.has_value()) ToProto(*r.finished_at, op.mutable_finished_at());
  op.set_error_code(r.error_code);
  op.set_error_message(r.error_message);
  if (r.state == OperationRecord::State::kSucceeded && !r.result.empty()) {
    v1::Operation result;
    if (google::protobuf::util::JsonStringToMessage(r.result, &result).ok()) {
      op.MergeFrom(result);
    }
  }
  return op;
}

absl::Status OperationRegistry::Publish(const std::string& id) {
  if (store_ == nullptr) return absl::OkStatus();
  absl::StatusOr<v1::Operation> op = Get(id);
  if (!op.ok()) return op.status();
  return store_->Insert(ToRecord(*op));
}

void OperationRegistry::Progress(const std::string& id, int64_t units_done, std::string last_unit) {
  v1::Operation copy;
  {
    absl::MutexLock lock(&mu_);
    auto it = operations_.find(id);
    if (it == operations_.end()) return;
    it->second.set_units_done(units_done);
    it->second.set_last_unit(std::move(last_unit));
    if (store_ == nullptr) return;
    copy = it->second;
  }
  if (absl::Status s = store_->Save(ToRecord(copy)); !s.ok()) WarnStoreFailed("progress", id, s);
}

void OperationRegistry::Finish(const std::string& id, const absl::Status& status,
                               const v1::Operation& result) {
  const absl::Time now = clock_.Now();
  v1::Operation copy;
  {
    absl::MutexLock lock(&mu_);
    auto it = operations_.find(id);
    if (it == operations_.end()) return;
    v1::Operation& op = it->second;
    if (status.ok()) {
      if (result.has_roll_up()) *op.mutable_roll_up() = result.roll_up();
      if (result.has_reprice()) *op.mutable_reprice() = result.reprice();
      if (result.has_what_if()) *op.mutable_what_if() = result.what_if();
    } else {
      op.set_error_code(static_cast<int32_t>(status.code()));
      op.set_error_message(std::string(status.message()));
    }
    op.set_done(true);
    ToProto(now, op.mutable_finished_at());
    if (store_ == nullptr) return;
    copy = op;
    unsaved_.insert(id);
  }
  if (absl::Status s = store_->Save(ToRecord(copy)); !s.ok()) {
    WarnStoreFailed("finish", id, s);
    return;
  }
  absl::MutexLock lock(&mu_);
  unsaved_.erase(id);
}

absl::Status OperationRegistry::NotFound(const std::string& id) const {
  return absl::NotFoundError(absl::StrCat(
      "id: no operation '", id, "' (unknown, finished more than ",
      absl::FormatDuration(options_.keep_finished), " ago, or started before a restart",
      store_ == nullptr ? " or on another replica)" : ")"));
}

absl::StatusOr<v1::Operation> OperationRegistry::Get(const std::string& id) const {
  const absl::Time expired_before = clock_.Now() - options_.keep_finished;
  absl::MutexLock lock(&mu_);
  auto it = operations_.find(id);
  if (it == operations_.end() ||
      (it->second.done() && FromProto(it->second.finished_at()) < expired_before)) {
    return NotFound(id);
  }
  return it->second;
}

absl::StatusOr<v1::Operation> OperationRegistry::Lookup(const std::string& id) const {
  absl::StatusOr<v1::Operation> mine = Get(id);
  if (mine.ok() || store_ == nullptr) return mine;
  absl::StatusOr<std::optional<OperationRecord>> record = store_->Get(id);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return NotFound(id);
  v1::Operation op = FromRecord(**record);
  if (op.done() &&
      FromProto(op.finished_at()) < clock_.Now() - options_.keep_finished - options_.lease) {
    return NotFound(id);
  }
  return op;
}

absl::Status OperationRegistry::Heartbeat() {
  if (store_ == nullptr) return absl::OkStatus();
  std::vector<std::string> running;
  std::vector<v1::Operation> unsaved;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, op] : operations_) {
      if (!op.done()) running.push_back(id);
    }
    for (const std::string& id : unsaved_) {
      if (auto it = operations_.find(id); it != operations_.end()) unsaved.push_back(it->second);
    }
  }
  absl::Status status = store_->Heartbeat(running);
  for (const v1::Operation& op : unsaved) {
    absl::Status saved = store_->Save(ToRecord(op));
    if (saved.ok()) {
      absl::MutexLock lock(&mu_);
      unsaved_.erase(op.id());
    } else {
      status.Update(saved);
    }
  }
  status.Update(store_->DeleteOld(options_.keep_finished, options_.keep_finished + options_.lease));
  return status;
}

}  // namespace stepledger::transport
