#include "server/storage/pg_operation_store.h"

#include <pqxx/pqxx>
#include <utility>

#include "absl/strings/str_join.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {
namespace {

using domain::OperationRecord;

// Times travel as Unix microseconds, so no text format of ours meets PostgreSQL's.
constexpr char kInsert[] = R"sql(
INSERT INTO admin_operations (id, kind, state, units_done, units_total, last_unit, owner,
                              started_at, heartbeat_at)
VALUES ($1, $2, 'running', $3, $4, $5, $6,
        timestamptz 'epoch' + $7::bigint * interval '1 microsecond', now()))sql";

constexpr char kSave[] = R"sql(
UPDATE admin_operations
   SET state = $2, units_done = $3, units_total = $4, last_unit = $5,
       result = nullif($6, '')::jsonb, error_code = $7, error_message = $8,
       finished_at = CASE WHEN $9::bigint IS NULL THEN NULL
                          ELSE timestamptz 'epoch' + $9::bigint * interval '1 microsecond' END,
       heartbeat_at = now()
 WHERE id = $1)sql";

constexpr char kHeartbeat[] = R"sql(
UPDATE admin_operations SET heartbeat_at = now()
 WHERE id = ANY(string_to_array($1, ',')) AND state = 'running')sql";

constexpr char kSelect[] = R"sql(
SELECT id, kind, state, units_done, units_total, last_unit, coalesce(result::text, ''),
       error_code, error_message, owner,
       (extract(epoch FROM started_at) * 1000000)::bigint,
       (extract(epoch FROM finished_at) * 1000000)::bigint,
       (extract(epoch FROM now() - heartbeat_at) * 1000000)::bigint
  FROM admin_operations WHERE id = $1)sql";

constexpr char kDeleteOld[] = R"sql(
DELETE FROM admin_operations
 WHERE finished_at < now() - $1::bigint * interval '1 microsecond'
    OR (state = 'running' AND heartbeat_at < now() - $2::bigint * interval '1 microsecond'))sql";

std::string_view StateText(OperationRecord::State state) {
  switch (state) {
    case OperationRecord::State::kRunning:
      return "running";
    case OperationRecord::State::kSucceeded:
      return "succeeded";
    case OperationRecord::State::kFailed:
      return "failed";
  }
  return "failed";
}

OperationRecord::State StateFromText(std::string_view text) {
  if (text == "running") return OperationRecord::State::kRunning;
  if (text == "succeeded") return OperationRecord::State::kSucceeded;
  return OperationRecord::State::kFailed;
}

// Runs `body(txn)` in a transaction on the kept connection `conn` (opened when missing); a
// failure drops the connection so that the next call opens a new one. REQUIRES: the caller
// holds the lock that guards `conn`.
template <typename ConnectionPtr, typename Body>
auto InTransaction(ConnectionPtr& conn, const std::string& url, const char* what, Body body)
    -> decltype(body(std::declval<pqxx::work&>())) {
  try {
    if (conn == nullptr || !conn->connection.is_open()) {
      conn.reset(new typename ConnectionPtr::element_type{PgConnection(url)});
    }
    pqxx::work txn(conn->connection);
    return body(txn);
  } catch (...) {
    conn.reset();
    return CurrentExceptionToStatus(what);
  }
}

}  // namespace

struct PgOperationStore::Connection {
  PgConnection connection;
};

PgOperationStore::PgOperationStore(std::string database_url)
    : database_url_(std::move(database_url)) {}
PgOperationStore::~PgOperationStore() = default;

absl::Status PgOperationStore::Insert(const OperationRecord& r) {
  absl::MutexLock lock(&mu_);
  return InTransaction(connection_, database_url_, "insert admin operation", [&](pqxx::work& txn) {
    txn.exec_params(kInsert, r.id, r.kind, r.units_done, r.units_total, r.last_unit, r.owner,
                    absl::ToUnixMicros(r.started_at));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status PgOperationStore::Save(const OperationRecord& r) {
  absl::MutexLock lock(&mu_);
  return InTransaction(connection_, database_url_, "save admin operation", [&](pqxx::work& txn) {
    std::optional<int64_t> finished;
    if (r.finished_at.has_value()) finished = absl::ToUnixMicros(*r.finished_at);
    txn.exec_params(kSave, r.id, std::string(StateText(r.state)), r.units_done, r.units_total,
                    r.last_unit, r.result, r.error_code, r.error_message, finished);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status PgOperationStore::Heartbeat(const std::vector<std::string>& ids) {
  if (ids.empty()) return absl::OkStatus();
  // Ids are hex (the registry makes them), so a comma is a safe separator.
  absl::MutexLock lock(&mu_);
  return InTransaction(connection_, database_url_, "heartbeat admin operations",
                       [&](pqxx::work& txn) {
                         txn.exec_params(kHeartbeat, absl::StrJoin(ids, ","));
                         txn.commit();
                         return absl::OkStatus();
                       });
}

absl::StatusOr<std::optional<OperationRecord>> PgOperationStore::Get(std::string_view id) {
  absl::MutexLock lock(&mu_);
  return InTransaction(connection_, database_url_, "read admin operation",
                       [&](pqxx::work& txn) -> absl::StatusOr<std::optional<OperationRecord>> {
                         pqxx::result rows = txn.exec_params(kSelect, std::string(id));
                         txn.commit();
                         if (rows.empty()) return std::optional<OperationRecord>();
                         const pqxx::row& row = rows[0];
                         OperationRecord r;
                         r.id = row[0].as<std::string>();
                         r.kind = row[1].as<std::string>();
                         r.state = StateFromText(row[2].as<std::string>());
                         r.units_done = row[3].as<int64_t>();
                         r.units_total = row[4].as<int64_t>();
                         r.last_unit = row[5].as<std::string>();
                         r.result = row[6].as<std::string>();
                         r.error_code = row[7].as<int>();
                         r.error_message = row[8].as<std::string>();
                         r.owner = row[9].as<std::string>();
                         r.started_at = absl::FromUnixMicros(row[10].as<int64_t>());
                         if (!row[11].is_null())
                           r.finished_at = absl::FromUnixMicros(row[11].as<int64_t>());
                         r.heartbeat_age = absl::Microseconds(row[12].as<int64_t>());
                         return std::optional<OperationRecord>(std::move(r));
                       });
}

absl::Status PgOperationStore::DeleteOld(absl::Duration finished_age,
                                         absl::Duration abandoned_age) {
  absl::MutexLock lock(&mu_);
  return InTransaction(connection_, database_url_, "delete old admin operations",
                       [&](pqxx::work& txn) {
                         txn.exec_params(kDeleteOld, absl::ToInt64Microseconds(finished_age),
                                         absl::ToInt64Microseconds(abandoned_age));
                         txn.commit();
                         return absl::OkStatus();
                       });
}

}  // namespace stepledger::storage
