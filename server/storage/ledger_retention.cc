#include "server/storage/ledger_retention.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"
#include "server/storage/rollup_store.h"

namespace stepledger::storage {
namespace {

// Days that hold raw ledger data up to $1 (inclusive) and are not retired yet, oldest first,
// as days since 1970-01-01. A day's data lives in its steps partition or, when every event of
// the day was rejected, only in the quarantine (event_keys rows always have a partition).
constexpr char kSelectDueDays[] = R"sql(
  SELECT (d - date '1970-01-01')::int FROM (
    SELECT to_date(substring(c.relname FROM 8), 'YYYYMMDD') AS d
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'steps'::regclass AND c.relname ~ '^steps_p[0-9]{8}$'
    UNION
    SELECT (q.occurred_at AT TIME ZONE 'UTC')::date FROM quarantine q
     WHERE q.occurred_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
  ) days
  WHERE d <= $1::date AND NOT EXISTS (SELECT 1 FROM ledger_retired_days r WHERE r.day = d)
  ORDER BY d LIMIT $2
)sql";

constexpr char kRetireDay[] =
    "SELECT outcome, steps, quarantined, corrections FROM retire_ledger_day($1::date, $2)";

// The runs that outlive a retired day (those wholly inside it are deleted with it) lost their
// steps of that day, so their orphan counts may change: stamped as the write path stamps a run
// it adds to, the next orphan recount counts them again (run_upkeep.cc). The rows are locked in
// parent_run_id order first, the order in which the write path's runs upsert locks them, so a
// write group touching one of these runs waits instead of deadlocking. $1: the retired day.
constexpr char kStampRunsSpanningRetiredDay[] = R"sql(
  UPDATE runs r SET changed_xid = pg_current_xact_id()
  FROM (SELECT parent_run_id FROM runs
        WHERE first_seen < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
        ORDER BY parent_run_id FOR NO KEY UPDATE) l
  WHERE r.parent_run_id = l.parent_run_id
)sql";

const absl::CivilDay kEpoch(1970, 1, 1);

}  // namespace

absl::CivilDay LastRetiredDay(const RetentionOptions& options) {
  return options.today - options.keep_days - 2;
}

absl::StatusOr<RetentionRun> RetireExpiredLedgerDays(const RetentionOptions& options) {
  RetentionRun run;
  if (options.keep_days <= 0) return absl::InvalidArgumentError("retention: keep_days must be > 0");
  const absl::CivilDay last = LastRetiredDay(options);
  const char* mode = options.mode == RetentionMode::kDetach ? "detach" : "drop";
  try {
    // The rollup's lock, taken as RollupJob::Run takes it: transaction-scoped, in a transaction
    // of a connection of its own kept open while `conn` works (a session lock would stay with
    // a pooled server session behind pgbouncer; docs/OPERATING.md, "Connection poolers").
    PgConnection lock_conn(options.database_url);
    pqxx::work lock(lock_conn);
    if (!lock.exec_params1("SELECT pg_try_advisory_xact_lock($1)", kRollupLockKey)[0].as<bool>()) {
      return run;  // a rollup, or another replica's retention, is running
    }
    PgConnection conn(options.database_url);
    run.ran = true;
    std::vector<absl::CivilDay> due;
    {
      pqxx::read_transaction txn(conn);
      for (const auto& row :
           txn.exec_params(kSelectDueDays, PgDate(last), options.max_days_per_run)) {
        due.push_back(kEpoch + row[0].as<int>());
      }
    }
    for (size_t i = 0; i < due.size(); ++i) {
      pqxx::work txn(conn);
      txn.exec(absl::StrCat("SET LOCAL lock_timeout = '",
                            absl::ToInt64Milliseconds(options.lock_timeout), "ms'"));
      pqxx::row r = txn.exec_params1(kRetireDay, PgDate(due[i]), mode);
      RetiredDay day{due[i], r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<int64_t>(),
                     r[3].as<int64_t>()};
      if (day.outcome == "retired") txn.exec_params0(kStampRunsSpanningRetiredDay, PgDate(due[i]));
      txn.commit();
      run.days.push_back(day);
      if (day.outcome != "retired" && day.outcome != "already") {
        // Oldest first: a day that must stay keeps every later day (see the header).
        run.blocked_days = static_cast<int64_t>(due.size() - i);
        break;
      }
    }
    lock.commit();
  } catch (...) {
    return CurrentExceptionToStatus("ledger retention");
  }
  return run;
}

}  // namespace stepledger::storage
