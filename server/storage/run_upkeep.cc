#include "server/storage/run_upkeep.h"

#include <pqxx/pqxx>
#include <set>

#include "absl/time/clock.h"
#include "server/storage/copy_text.h"
#include "server/storage/ledger_queries.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {
namespace {

constexpr int64_t kRunUpkeepLockKey = 0x5354504c52554e53;  // "STPLRUNS"

}  // namespace

absl::StatusOr<int64_t> ExpirePendingInheritance(const std::string& database_url,
                                                 absl::Time cutoff) {
  try {
    PgConnection conn(database_url);
    pqxx::work txn(conn);
    if (!txn.exec_params1("SELECT pg_try_advisory_xact_lock($1)", kRunUpkeepLockKey)[0]
             .as<bool>()) {
      return 0;  // another replica is doing it
    }
    pqxx::result expired = txn.exec_params(queries::kExpirePending, PgTimestamp(cutoff));
    std::set<std::string> runs;
    for (const auto& row : expired) runs.insert(row[0].as<std::string>());
    if (!runs.empty()) txn.exec_params(queries::kRecountRuns, PgTextArray(runs));
    txn.commit();
    return static_cast<int64_t>(expired.size());
  } catch (...) {
    return CurrentExceptionToStatus("expire pending inheritance");
  }
}

absl::StatusOr<OpenRunStats> ReadOpenRunStats(const std::string& database_url,
                                              absl::Duration window, absl::Duration orphan_window) {
  try {
    PgConnection conn(database_url);
    pqxx::read_transaction txn(conn);
    pqxx::row row = txn.exec_params1(queries::kOpenRunStats, PgTimestamp(absl::Now() - window));
    txn.exec0("SET LOCAL jit = off");  // see kOrphanSteps
    pqxx::row orphans =
        txn.exec_params1(queries::kOrphanSteps, PgTimestamp(absl::Now() - orphan_window));
    return OpenRunStats{row[0].as<int64_t>(), row[1].as<int64_t>(), row[2].as<int64_t>(),
                        orphans[0].as<int64_t>()};
  } catch (...) {
    return CurrentExceptionToStatus("read open run stats");
  }
}

}  // namespace stepledger::storage
