// Integration: ledger retention (storage/ledger_retention.h, migration 0020) in a real
// PostgreSQL, with the clock moved: `today` is passed in, months after the generated days.
// What must hold: only rolled-up days whose rollup still equals their ledger are retired,
// oldest first; their rollups (and so every report) stay as they were; a rollup never rewrites
// a retired day; one process at a time retires.
#include "server/storage/ledger_retention.h"

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "server/storage/migrator.h"
#include "server/storage/partitions.h"
#include "server/storage/pg_time.h"
#include "server/storage/rollup_store.h"
#include "server/storage/run_upkeep.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using storage::RetentionMode;
using storage::RetentionOptions;
using storage::RetireExpiredLedgerDays;
using storage::RollupJob;
using testing::TestDatabase;

const absl::CivilDay kDay1(2025, 3, 1);
const absl::CivilDay kDay2(2025, 3, 2);
const absl::CivilDay kDay3(2025, 3, 3);
// With keep_days 9, the last retired day is today - 11 = kDay2.
const absl::CivilDay kToday = kDay3 + 10;
constexpr int kKeepDays = 9;

constexpr char kInsertStep[] = R"sql(
  WITH k AS (
    INSERT INTO event_keys (event_id, digest, occurred_at, received_at)
    VALUES ($1, '\x00', $2::timestamptz, $2::timestamptz) RETURNING event_id)
  INSERT INTO steps (event_id, occurred_at, received_at, digest, feature, team, workload_class,
    tenant, environment, parent_run_id, charged_feature, charged_team, charged_workload_class,
    charged_tenant, attribution_status, step_id, kind, cost_nano_usd, cost_source)
  SELECT $1, $2::timestamptz, $2::timestamptz, '\x00', 'search', 'core', 'interactive', 't1',
    'production', $3, 'search', 'core', 'interactive', 't1', 'complete', $1, 'llm', $4,
    'computed' FROM k
)sql";

constexpr char kInsertRun[] = R"sql(
  INSERT INTO runs (parent_run_id, first_seen, last_seen, last_received_at, environment,
    step_count, total_cost_nano_usd, unpriced_steps, retry_steps, retry_cost_nano_usd,
    drift_steps, pending_steps, status)
  VALUES ($1, $2::timestamptz, $3::timestamptz, $3::timestamptz, 'production', 1, 0, 0, 0, 0,
    0, 0, 'open')
)sql";

constexpr char kInsertQuarantine[] = R"sql(
  INSERT INTO quarantine (event_id, digest, received_at, occurred_at, field, reason,
    environment, cost_nano_usd, event)
  VALUES ($1, decode(md5($1), 'hex'), $2::timestamptz, $2::timestamptz, 'tenant',
    'missing_tag', 'production', 500, '{}'::jsonb)
)sql";

std::string Noon(absl::CivilDay d) { return storage::PgDate(d) + " 12:00:00+00"; }

class LedgerRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
    pqxx::connection conn(db_.url());
    ASSERT_TRUE(storage::EnsureDailyPartitions(conn, {kDay1, kDay2, kDay3}).ok());
    pqxx::work txn(conn);
    int n = 0;
    for (absl::CivilDay d : {kDay1, kDay2, kDay3}) {
      for (int i = 0; i < 3; ++i) {
        txn.exec_params(kInsertStep, absl::StrCat("e", n++), Noon(d),
                        d == kDay1 ? "run-day1" : "run-day2-3", 1000 * (i + 1));
      }
      txn.exec_params(kInsertQuarantine, absl::StrCat("q", n++), Noon(d));
    }
    txn.exec_params(kInsertRun, "run-day1", Noon(kDay1), Noon(kDay1));
    txn.exec_params(kInsertRun, "run-day2-3", Noon(kDay2), Noon(kDay3));
    txn.commit();
  }

  void RollUp(absl::CivilDay from, absl::CivilDay to) {
    absl::StatusOr<storage::RollupRunResult> run =
        RollupJob({.database_url = db_.url()}).Run(from, to);
    ASSERT_TRUE(run.ok()) << run.status();
    ASSERT_TRUE(run->ran);
  }

  absl::StatusOr<storage::RetentionRun> Retire(RetentionMode mode = RetentionMode::kDrop) {
    return RetireExpiredLedgerDays(
        {.database_url = db_.url(), .keep_days = kKeepDays, .mode = mode, .today = kToday});
  }

  bool PartitionExists(absl::CivilDay d) {
    return db_.Count(absl::StrCat("SELECT count(*) FROM pg_inherits WHERE inhrelid = "
                                  "coalesce(to_regclass('",
                                  storage::PartitionName(d), "'), 0)")) == 1;
  }
  int64_t RolledUpCost(absl::CivilDay d) {
    return db_.Count(absl::StrCat("SELECT coalesce(sum(cost_nano_usd), 0) FROM rollup_daily ",
                                  "WHERE day = '", storage::PgDate(d), "'"));
  }
  int64_t Rows(const std::string& table, absl::CivilDay d) {
    return db_.Count(absl::StrCat("SELECT count(*) FROM ", table, " WHERE occurred_at >= '",
                                  storage::PgDate(d), " 00:00:00+00' AND occurred_at < '",
                                  storage::PgDate(d + 1), " 00:00:00+00'"));
  }

  TestDatabase db_;
};

TEST_F(LedgerRetentionTest, LastRetiredDayLeavesAMarginBeyondWhatIngestAccepts) {
  EXPECT_EQ(storage::LastRetiredDay({.keep_days = kKeepDays, .today = kToday}), kDay2);
}

TEST_F(LedgerRetentionTest, RetiresRolledUpDaysPastTheRetentionAndKeepsTheirRollups) {
  RollUp(kDay1, kDay3);
  const int64_t day1_cost = RolledUpCost(kDay1), day2_cost = RolledUpCost(kDay2);
  ASSERT_EQ(day1_cost, 6000);

  absl::StatusOr<storage::RetentionRun> run = Retire();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->ran);
  ASSERT_EQ(run->days.size(), 2u);
  EXPECT_EQ(run->days[0].day, kDay1);
  EXPECT_EQ(run->days[0].outcome, "retired");
  EXPECT_EQ(run->days[0].steps, 3);
  EXPECT_EQ(run->days[0].quarantined, 1);
  EXPECT_EQ(run->days[1].outcome, "retired");
  EXPECT_EQ(run->blocked_days, 0);

  EXPECT_FALSE(PartitionExists(kDay1));
  EXPECT_FALSE(PartitionExists(kDay2));
  EXPECT_TRUE(PartitionExists(kDay3));
  EXPECT_EQ(Rows("event_keys", kDay1), 0);
  EXPECT_EQ(Rows("quarantine", kDay2), 0);
  EXPECT_EQ(Rows("event_keys", kDay3), 3);
  EXPECT_EQ(Rows("quarantine", kDay3), 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM runs WHERE parent_run_id = 'run-day1'"), 0);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM runs WHERE parent_run_id = 'run-day2-3'"), 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM ledger_retired_days"), 2);
  // Reports read the rollups: unchanged.
  EXPECT_EQ(RolledUpCost(kDay1), day1_cost);
  EXPECT_EQ(RolledUpCost(kDay2), day2_cost);

  // A second run has nothing left to do.
  absl::StatusOr<storage::RetentionRun> again = Retire();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->days.empty());

  // Re-rolling a retired day leaves its rollup alone and says so.
  absl::StatusOr<storage::RollupRunResult> reroll =
      RollupJob({.database_url = db_.url()}).Run(kDay1, kDay3);
  ASSERT_TRUE(reroll.ok()) << reroll.status();
  ASSERT_EQ(reroll->days.size(), 3u);
  EXPECT_TRUE(reroll->days[0].retired);
  EXPECT_EQ(reroll->days[0].total_cost_nano_usd, day1_cost);
  EXPECT_FALSE(reroll->days[2].retired);
  EXPECT_EQ(RolledUpCost(kDay1), day1_cost);
}

TEST_F(LedgerRetentionTest, ADayNeverRolledUpHoldsItselfAndEveryLaterDayBack) {
  RollUp(kDay2, kDay3);
  absl::StatusOr<storage::RetentionRun> run = Retire();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->days.size(), 1u);
  EXPECT_EQ(run->days[0].day, kDay1);
  EXPECT_EQ(run->days[0].outcome, "not_rolled_up");
  EXPECT_EQ(run->blocked_days, 2);
  EXPECT_TRUE(PartitionExists(kDay1));
  EXPECT_TRUE(PartitionExists(kDay2));
  EXPECT_EQ(db_.Count("SELECT count(*) FROM ledger_retired_days"), 0);
}

TEST_F(LedgerRetentionTest, ADayWhoseLedgerChangedSinceItsRollupIsKeptUntilRolledUpAgain) {
  RollUp(kDay1, kDay3);
  {
    pqxx::connection conn(db_.url());
    pqxx::work txn(conn);
    txn.exec_params(kInsertStep, "late", Noon(kDay1), "run-day1", 700);
    txn.commit();
  }
  absl::StatusOr<storage::RetentionRun> run = Retire();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->days.size(), 1u);
  EXPECT_EQ(run->days[0].outcome, "rollup_differs");
  EXPECT_TRUE(PartitionExists(kDay1));

  RollUp(kDay1, kDay1);
  run = Retire();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->days.size(), 2u);
  EXPECT_EQ(run->days[0].outcome, "retired");
  EXPECT_EQ(run->days[0].steps, 4);
  EXPECT_EQ(RolledUpCost(kDay1), 6700);
}

TEST_F(LedgerRetentionTest, OnlyOneProcessRetiresAtATimeAndNeverDuringARollup) {
  RollUp(kDay1, kDay3);
  pqxx::connection holder(db_.url());
  pqxx::nontransaction lock(holder);
  lock.exec_params("SELECT pg_advisory_lock($1)", storage::kRollupLockKey);
  absl::StatusOr<storage::RetentionRun> run = Retire();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FALSE(run->ran);
  EXPECT_TRUE(PartitionExists(kDay1));
  lock.exec_params("SELECT pg_advisory_unlock($1)", storage::kRollupLockKey);
  run = Retire();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->ran);
  EXPECT_FALSE(PartitionExists(kDay1));
}

TEST_F(LedgerRetentionTest, DetachKeepsTheRetiredRowsInTheArchiveSchema) {
  RollUp(kDay1, kDay3);
  absl::StatusOr<storage::RetentionRun> run = Retire(RetentionMode::kDetach);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->days.size(), 2u);
  EXPECT_FALSE(PartitionExists(kDay1));
  EXPECT_EQ(db_.Count("SELECT count(*) FROM ledger_archive.steps_p20250301"), 3);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM ledger_archive.quarantine_p20250301"), 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps WHERE occurred_at < '2025-03-03'"), 0);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM ledger_retired_days WHERE mode = 'detach'"), 2);
}

// A run still active that had steps in a retired day: its step on kDay3 whose parent was on
// kDay2 is an orphan once kDay2 is retired, and the next orphan recount sees it. Retention
// stamps the runs that outlive a day it retires; without that the gauge kept the old count.
TEST_F(LedgerRetentionTest, ARunThatOutlivesARetiredDayIsRecountedOnTheNextTick) {
  // run-day2-3 holds e4-e6 on kDay2 and e8-e10 on kDay3; e8's parent is e4.
  db_.Exec("UPDATE steps SET parent_step_id = 'e4' WHERE event_id = 'e8'");
  db_.Exec("UPDATE runs SET last_received_at = now() WHERE parent_run_id = 'run-day2-3'");
  absl::StatusOr<storage::OpenRunStats> before =
      storage::ReadOpenRunStats(db_.url(), absl::Hours(24));
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->orphan_steps, 0) << "e8's parent is stored";

  RollUp(kDay1, kDay3);
  absl::StatusOr<storage::RetentionRun> run = Retire();
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->days.size(), 2u);
  ASSERT_FALSE(PartitionExists(kDay2));

  absl::StatusOr<storage::OpenRunStats> after =
      storage::ReadOpenRunStats(db_.url(), absl::Hours(24));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->orphan_runs_recounted, 1) << "the run that outlived kDay2";
  EXPECT_EQ(after->orphan_steps, 1) << "e8 lost its parent with kDay2";
}

TEST_F(LedgerRetentionTest, ARetentionOfZeroDaysIsRefused) {
  absl::StatusOr<storage::RetentionRun> run =
      RetireExpiredLedgerDays({.database_url = db_.url(), .keep_days = 0, .today = kToday});
  EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stepledger
