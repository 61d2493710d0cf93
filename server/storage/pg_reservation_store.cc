#include "server/storage/pg_reservation_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/storage/copy_text.h"
#include "server/storage/pg_budget_store.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/reservation_queries.h"

namespace stepledger::storage {
namespace {

using domain::budget::SharedReservation;

constexpr int64_t kReservationUpkeepLockKey = 0x5354504c52535256;  // "STPLRSRV"

// Repeatable read, so that a read's mark (its snapshot) and its rows come from one snapshot.
using SnapshotReadTransaction =
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>;

// The rows are soft state, rebuilt by the owner's memory and bounded by their TTL: waiting for
// the WAL flush would only delay the other replicas seeing them.
constexpr char kAsyncCommit[] = "SET LOCAL synchronous_commit = off";

double Seconds(absl::Duration d) { return absl::ToDoubleSeconds(d); }

}  // namespace

PgReservationStore::PgReservationStore(std::string database_url)
    : db_(std::move(database_url), "budget reservations") {}
PgReservationStore::~PgReservationStore() = default;

absl::Status PgReservationStore::Write(const std::vector<SharedReservation>& rows) {
  if (rows.empty()) return absl::OkStatus();
  std::vector<std::string> run, step, id, owner, amount, env, feature, team, tenant, created,
      expires;
  for (const SharedReservation& r : rows) {
    run.push_back(r.parent_run_id);
    step.push_back(r.step_id);
    id.push_back(r.id);
    owner.push_back(r.owner);
    amount.push_back(absl::StrCat(r.amount));
    env.emplace_back(domain::ToString(r.tags.environment));
    feature.push_back(r.tags.feature);
    team.push_back(r.tags.team);
    tenant.push_back(r.tags.tenant);
    created.push_back(absl::StrCat(absl::ToUnixMicros(r.created_at)));
    expires.push_back(absl::StrCat(absl::ToUnixMicros(r.expires_at)));
  }
  return db_.Run("write reservations", [&](PgConnection& pg) -> absl::Status {
    pqxx::work txn(pg);
    txn.exec(kAsyncCommit);
    txn.exec_params(queries::kWriteReservations, PgTextArray(run), PgTextArray(step),
                    PgTextArray(id), PgTextArray(owner), PgTextArray(amount), PgTextArray(env),
                    PgTextArray(feature), PgTextArray(team), PgTextArray(tenant),
                    PgTextArray(created), PgTextArray(expires));
    // A step stored before this row existed found nothing to settle: settle it now. (One
    // owner per call: a replica writes only its own reservations.)
    txn.exec_params(queries::kSettleStoredReservations, rows.front().owner, 0.0);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status PgReservationStore::SettleStored(const std::string& owner, absl::Duration window) {
  return db_.Run("settle stored reservations", [&](PgConnection& pg) -> absl::Status {
    pqxx::work txn(pg);
    txn.exec(kAsyncCommit);
    txn.exec_params(queries::kSettleStoredReservations, owner, Seconds(window));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<domain::budget::SharedReservationsRead> PgReservationStore::Read(
    const std::string* since_mark) {
  return db_.Run(
      "read reservations",
      [&](PgConnection& pg) -> absl::StatusOr<domain::budget::SharedReservationsRead> {
        SnapshotReadTransaction txn(pg);
        domain::budget::SharedReservationsRead read;
        read.next_mark = txn.exec1("SELECT pg_current_snapshot()::text")[0].as<std::string>();
        const pqxx::result result =
            since_mark == nullptr
                ? txn.exec(queries::kSelectReservations)
                : txn.exec_params(queries::kSelectChangedReservations, *since_mark);
        read.rows.reserve(result.size());
        for (const auto& row : result) {
          absl::StatusOr<domain::Environment> env = ParseEnvironment(row[5].as<std::string>());
          if (!env.ok()) continue;  // not a row this version wrote
          SharedReservation& r = read.rows.emplace_back();
          r.parent_run_id = row[0].as<std::string>();
          r.step_id = row[1].as<std::string>();
          r.key = domain::budget::BudgetCoordinator::ReservationKey(r.parent_run_id, r.step_id);
          r.id = row[2].as<std::string>();
          r.owner = row[3].as<std::string>();
          r.amount = row[4].as<int64_t>();
          r.tags.environment = *env;
          r.tags.feature = row[6].as<std::string>();
          r.tags.team = row[7].as<std::string>();
          r.tags.tenant = row[8].as<std::string>();
          r.tags.parent_run_id = r.parent_run_id;
          r.created_at = absl::FromUnixMicros(row[9].as<int64_t>());
          r.expires_at = absl::FromUnixMicros(row[10].as<int64_t>());
          r.settled = row[11].as<bool>();
        }
        return read;
      });
}

absl::StatusOr<int64_t> PgReservationStore::DeleteFinished(absl::Duration grace) {
  return db_.Run("delete finished reservations", [&](PgConnection& pg) -> absl::StatusOr<int64_t> {
    pqxx::work txn(pg);
    if (!txn.exec_params1(queries::kTryReservationUpkeepLock, kReservationUpkeepLockKey)[0]
             .as<bool>()) {
      return int64_t{0};  // another replica is at it
    }
    const pqxx::result deleted =
        txn.exec_params(queries::kDeleteFinishedReservations, Seconds(grace));
    txn.commit();
    return static_cast<int64_t>(deleted.affected_rows());
  });
}

}  // namespace stepledger::storage
