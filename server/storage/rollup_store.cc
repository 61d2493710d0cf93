#include "server/storage/rollup_store.h"

#include <optional>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"
#include "server/storage/rollup_queries.h"

namespace stepledger::storage {
namespace {

std::string DayStart(absl::CivilDay d) { return PgDate(d) + " 00:00:00+00"; }

RollupDayResult RollupOneDay(pqxx::connection& conn, absl::CivilDay day) {
  RollupDayResult result;
  result.day = day;
  const std::string date = PgDate(day);
  pqxx::work txn(conn);
  if (pqxx::result retired = txn.exec_params(queries::kSelectRetiredDay, date); !retired.empty()) {
    // Re-rolling it would replace its rollup with an empty one.
    result.retired = true;
    result.source_rows = retired[0][0].as<int64_t>();
    result.total_cost_nano_usd = retired[0][1].as<int64_t>();
    result.correction_cost_nano_usd = retired[0][2].as<int64_t>();
    return result;
  }
  pqxx::result existing = txn.exec_params(queries::kSelectRollupDay, date);
  result.first_roll = existing.empty();
  std::optional<std::string> first_rolled_at;
  if (!existing.empty()) first_rolled_at = existing[0][0].as<std::string>();
  txn.exec_params(queries::kDeleteRollupDaily, date);
  txn.exec_params(queries::kDeleteRollupToolOwner, date);
  txn.exec_params(queries::kDeleteRollupQuarantine, date);
  txn.exec_params(queries::kDeleteRollupFocus, date);
  const std::string start = DayStart(day), end = DayStart(day + 1);
  txn.exec_params(queries::kInsertRollupDaily, date, start, end, first_rolled_at);
  txn.exec_params(queries::kInsertRollupToolOwner, date, start, end, first_rolled_at);
  txn.exec_params(queries::kInsertRollupQuarantine, date, start, end, first_rolled_at);
  txn.exec_params(queries::kInsertRollupFocus, date, start, end, first_rolled_at);
  pqxx::row totals = txn.exec_params1(queries::kRollupDayTotals, date);
  result.source_rows = totals[0].as<int64_t>();
  result.total_cost_nano_usd = totals[1].as<int64_t>();
  result.correction_cost_nano_usd = totals[2].as<int64_t>();
  txn.exec_params(queries::kUpsertRollupDay, date, result.source_rows, result.total_cost_nano_usd,
                  result.correction_cost_nano_usd);
  txn.commit();
  return result;
}

}  // namespace

absl::StatusOr<RollupRunResult> RollupJob::Run(absl::CivilDay from, absl::CivilDay to) const {
  if (to < from) return absl::InvalidArgumentError("rollup: --to is before --from");
  RollupRunResult run;
  try {
    // The lock is transaction-scoped, taken in a transaction of a connection of its own that
    // stays open while `conn` rolls the days up: behind a transaction-mode pooler (pgbouncer)
    // a session lock would stay with whichever server session took it (docs/OPERATING.md,
    // "Connection poolers"). It ends with that transaction: at the end, on an exception below,
    // or when the process dies and its connection closes.
    PgConnection lock_conn(options_.database_url);
    pqxx::work lock(lock_conn);
    if (!lock.exec_params1("SELECT pg_try_advisory_xact_lock($1)", kRollupLockKey)[0].as<bool>()) {
      return run;  // another replica or a backfill is rolling up
    }
    PgConnection conn(options_.database_url);
    if (options_.on_locked) options_.on_locked();
    for (absl::CivilDay day = from; day <= to; ++day) {
      run.days.push_back(RollupOneDay(conn, day));
      if (options_.on_day && !options_.on_day(run.days.back())) break;
    }
    lock.commit();
  } catch (...) {
    return CurrentExceptionToStatus("rollup");
  }
  run.ran = true;
  return run;
}

}  // namespace stepledger::storage
