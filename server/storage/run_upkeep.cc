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

// Recounts the orphans of the runs changed since the last recount (kRecountRunOrphans) and
// stores them with the snapshot the count ran in (kStoreRunOrphans). Returns how many runs it
// recounted. REQUIRES: `txn` holds the run upkeep lock (one recount at a time, each one
// starting after the previous one committed).
//
// Why the stored counts stay exact under concurrent writers. A run's orphans change only when
// steps are added to it or retired: orphan status depends on the step ids, parent ids and times
// of the run's steps (and its first_seen/last_seen), the write path adds steps in the
// transaction whose runs upsert stamps runs.changed_xid with that transaction's id, and
// retention removes a day's steps in the transaction that stamps the runs outliving it (call
// either a "group" below). The re-charge of steps
// to a late root (kChargeStoredStepsToNewRoots) and the pending timeout change a step's charge
// and status, never those columns. Claim: after a recount whose snapshot is S, every run's
// stored count is exact for its steps as S sees them, or the run's newest row version carries
// a stamp that S does not see (so the next recount counts it), or the run was last received
// before the recount's window (which only moves forward; the gauge sums only runs inside it,
// and a run re-enters it only by gaining a step, which stamps it). By induction on the
// recounts:
//  - A run counted in S: exact for S. A group that wrote it after S stamped it with an id that
//    S does not see, and the count stored onto that newer version (the UPDATE takes the newest
//    version) keeps the stamp.
//  - A changed run last received before the window: not counted, the third case.
//  - Any other run not counted: the stamp S sees was also seen by the previous recount's
//    snapshot S', and the run was inside S''s window (an earlier one). So by the claim for S'
//    its count was exact for S', and no group that S sees and S' does not added steps to it
//    (that group's stamp would be the one S sees).
//  - A group that S does not see (running when S was taken, or started later) stamps its runs
//    with an id S does not see. Writers of one run take its row lock in turn, so each later
//    writer of the run committed after S too: the stamp stays one that S does not see.
// A run that aged out of the window keeps its count until it gains a step (and with it a new
// last_received_at). Retention (0020) drops whole days and the runs wholly inside them, and
// stamps the runs that outlive a retired day in the same transaction (ledger_retention.cc):
// their steps of that day are gone, so the next recount counts them again. Like a write group,
// it takes each run's row lock to stamp it, so the argument above holds for its stamps too.
// A long write transaction (a retention run, a stuck writer) holds the snapshot's xmin back:
// the runs_changed range then reaches back to it, but pg_visible_in_snapshot drops what the
// last recount saw, so the index range grows, not the counting.
int64_t RecountChangedRunOrphans(pqxx::work& txn, absl::Time window_start) {
  txn.exec0("SET LOCAL jit = off");                // see kRecountRunOrphans
  txn.exec0("SET LOCAL enable_bitmapscan = off");  // see kRecountRunOrphans
  pqxx::row counted = txn.exec_params1(queries::kRecountRunOrphans, PgTimestamp(window_start));
  // The arrays go back as the text PostgreSQL wrote them: nothing to parse here.
  txn.exec_params1(queries::kStoreRunOrphans, counted[2].as<std::string>(),
                   counted[3].as<std::string>(), counted[0].as<std::string>());
  return counted[1].as<int64_t>();
}

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
    pqxx::work txn(conn);
    OpenRunStats stats;
    const absl::Time orphan_window_start = absl::Now() - orphan_window;
    // The same lock as ExpirePendingInheritance: its kRecountRuns updates runs rows in no
    // particular order, and the recount locks them in id order; one at a time, they cannot
    // deadlock. A replica that finds the lock taken reads the stored counts.
    if (txn.exec_params1("SELECT pg_try_advisory_xact_lock($1)", kRunUpkeepLockKey)[0].as<bool>()) {
      stats.orphan_runs_recounted = RecountChangedRunOrphans(txn, orphan_window_start);
      stats.orphans_recounted = true;
    }
    pqxx::row row = txn.exec_params1(queries::kOpenRunStats, PgTimestamp(absl::Now() - window));
    stats.open_runs = row[0].as<int64_t>();
    stats.pending_steps = row[1].as<int64_t>();
    stats.drift_steps = row[2].as<int64_t>();
    stats.orphan_steps =
        txn.exec_params1(queries::kOrphanStepsInWindow, PgTimestamp(orphan_window_start))[0]
            .as<int64_t>();
    txn.commit();
    return stats;
  } catch (...) {
    return CurrentExceptionToStatus("read open run stats");
  }
}

}  // namespace stepledger::storage
