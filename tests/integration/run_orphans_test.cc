// Integration: the orphan gauge recounts only the runs that changed since the last recount
// (migration 0024, ReadOpenRunStats) and stays exact: a parent arriving later, a run changed
// after a recount, a write group in flight during a recount, a second replica reading. And the
// other run gauges (open, pending, drift), read through runs_to_watch (migration 0026).
#include <pqxx/pqxx>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/storage/ledger_queries.h"
#include "server/storage/migrator.h"
#include "server/storage/run_upkeep.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/write_path.h"

namespace stepledger {
namespace {

using domain::Step;
using testing::TestDatabase;
using testing::WritePath;

// A step of `run` with id `id` under `parent` ("" for the run's root), fully tagged.
Step StepOf(const std::string& run, const std::string& id, const std::string& parent) {
  Step s;
  s.event_id = run + "-" + id;
  s.tags = {"inbox-triage",
            "mail-ai",
            domain::WorkloadClass::kInteractive,
            "acme",
            domain::Environment::kProduction,
            run};
  s.step_id = id;
  s.parent_step_id = parent;
  s.kind = domain::StepKind::kModelCall;
  s.cost_nano_usd = 100;
  s.started_at = absl::Now() - absl::Minutes(2);
  return s;
}

class RunOrphansTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
  }
  storage::OpenRunStats Read() {
    absl::StatusOr<storage::OpenRunStats> stats =
        storage::ReadOpenRunStats(db_.url(), absl::Hours(24));
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() ? *stats : storage::OpenRunStats{};
  }
  TestDatabase db_;
};

TEST_F(RunOrphansTest, AParentArrivingInALaterGroupTurnsTheCountDownOnTheNextTick) {
  WritePath path(db_.url());
  path.Send({StepOf("a", "root", ""), StepOf("a", "tool", "plan")});   // "plan" not sent yet
  path.Send({StepOf("b", "root", ""), StepOf("b", "lost", "ghost")});  // never sent
  storage::OpenRunStats first = Read();
  EXPECT_EQ(first.orphan_runs_recounted, 2);
  EXPECT_EQ(first.orphan_steps, 2);

  path.Send({StepOf("a", "plan", "root")});
  storage::OpenRunStats second = Read();
  EXPECT_TRUE(second.orphans_recounted);
  EXPECT_EQ(second.orphan_runs_recounted, 1) << "only run a changed";
  EXPECT_EQ(second.orphan_steps, 1) << "b's lost step is still an orphan; a's tool is not";
}

TEST_F(RunOrphansTest, ARunChangedAfterARecountIsRecountedAndAnUnchangedWindowIsNot) {
  WritePath path(db_.url());
  path.Send({StepOf("a", "root", ""), StepOf("b", "root", ""), StepOf("c", "root", "")});
  EXPECT_EQ(Read().orphan_runs_recounted, 3);
  storage::OpenRunStats unchanged = Read();
  EXPECT_TRUE(unchanged.orphans_recounted);
  EXPECT_EQ(unchanged.orphan_runs_recounted, 0) << "nothing changed since the last recount";
  EXPECT_EQ(unchanged.orphan_steps, 0);

  path.Send({StepOf("c", "x", "ghost"), StepOf("c", "y", "ghost")});
  storage::OpenRunStats changed = Read();
  EXPECT_EQ(changed.orphan_runs_recounted, 1);
  EXPECT_EQ(changed.orphan_steps, 2);
  EXPECT_EQ(db_.Count("SELECT orphan_steps FROM runs WHERE parent_run_id = 'c'"), 2);
  EXPECT_EQ(Read().orphan_runs_recounted, 0);
}

// Every replica reads the same gauge from the stored counts; only one recounts at a time, and
// one that finds the lock taken does not wait for it.
TEST_F(RunOrphansTest, ASecondReplicaSeesTheSameGaugeWithoutRecounting) {
  WritePath path(db_.url());
  path.Send({StepOf("a", "root", ""), StepOf("a", "lost", "ghost")});
  storage::OpenRunStats first = Read();
  ASSERT_EQ(first.orphan_steps, 1);

  storage::OpenRunStats other = Read();  // another replica, after the first one's tick
  EXPECT_EQ(other.orphan_runs_recounted, 0);
  EXPECT_EQ(other.orphan_steps, 1);

  pqxx::connection holder(db_.url());  // a replica in the middle of its upkeep
  pqxx::work held(holder);
  held.exec_params("SELECT pg_advisory_xact_lock($1)", storage::kRunUpkeepLockKey);
  path.Send({StepOf("a", "lost2", "ghost")});
  storage::OpenRunStats blocked = Read();
  EXPECT_FALSE(blocked.orphans_recounted);
  EXPECT_EQ(blocked.orphan_steps, 1) << "the stored counts, until the next recount";
  held.commit();
  storage::OpenRunStats after = Read();
  EXPECT_EQ(after.orphan_runs_recounted, 1);
  EXPECT_EQ(after.orphan_steps, 2);
}

// A write group that stamped its run before a recount's snapshot but committed after it is
// recounted next time. The group is held between its runs upsert and its COPY into `steps` by
// a lock on `steps` while the recount runs.
TEST_F(RunOrphansTest, AGroupInFlightDuringARecountIsCountedByTheNextOne) {
  WritePath path(db_.url());
  path.Send({StepOf("a", "root", "")});
  ASSERT_EQ(Read().orphan_runs_recounted, 1);

  pqxx::connection blocker(db_.url());
  pqxx::work lock(blocker);
  lock.exec("LOCK TABLE steps IN SHARE MODE");  // reads pass, the group's COPY waits
  std::thread writer([&] { path.Send({StepOf("a", "lost", "ghost")}); });
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (db_.Count("SELECT count(*) FROM pg_locks WHERE NOT granted AND "
                   "relation = 'steps'::regclass") == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(db_.Count("SELECT count(*) FROM pg_locks WHERE NOT granted AND "
                      "relation = 'steps'::regclass"),
            1)
      << "the group never reached its COPY into steps";
  storage::OpenRunStats during = Read();
  EXPECT_EQ(during.orphan_steps, 0) << "the group has not committed";
  lock.commit();
  writer.join();

  storage::OpenRunStats next = Read();
  EXPECT_EQ(next.orphan_runs_recounted, 1);
  EXPECT_EQ(next.orphan_steps, 1) << "the group's step, committed after the last recount";
}

// Runs stored before migration 0024 have no stamp: the first recount counts the window's runs
// by their receive time, and later recounts leave them alone until they change.
TEST_F(RunOrphansTest, TheFirstRecountCountsTheWindowsRunsWrittenBeforeTheMigration) {
  WritePath path(db_.url());
  path.Send({StepOf("old", "root", ""), StepOf("old", "lost", "ghost")});
  db_.Exec("UPDATE runs SET changed_xid = NULL");  // as 0024 leaves the rows it finds
  storage::OpenRunStats first = Read();
  EXPECT_EQ(first.orphan_runs_recounted, 1);
  EXPECT_EQ(first.orphan_steps, 1);
  EXPECT_EQ(Read().orphan_runs_recounted, 0);
}

// A run stamped since the last recount but last received before the window (a bulk load or a
// restore of old runs) is not recounted: the gauge does not sum it. It comes back by gaining a
// step, which stamps it and moves it into the window.
TEST_F(RunOrphansTest, AChangedRunReceivedBeforeTheWindowIsLeftUntilItGainsAStep) {
  WritePath path(db_.url());
  path.Send({StepOf("a", "root", "")});
  EXPECT_EQ(Read().orphan_runs_recounted, 1);
  path.Send({StepOf("old", "root", ""), StepOf("old", "lost", "ghost")});
  db_.Exec(
      "UPDATE runs SET last_received_at = now() - interval '2 hours' "
      "WHERE parent_run_id = 'old'");  // keeps the write path's stamp
  storage::OpenRunStats outside = Read();
  EXPECT_EQ(outside.orphan_runs_recounted, 0) << "outside the one-hour window";
  EXPECT_EQ(outside.orphan_steps, 0);

  path.Send({StepOf("old", "late", "root")});
  storage::OpenRunStats back = Read();
  EXPECT_EQ(back.orphan_runs_recounted, 1);
  EXPECT_EQ(back.orphan_steps, 1) << "its lost step";
}

// A day partition that has never been analyzed (the first minutes of every UTC day, a new
// deployment) gives the planner no statistics to choose an index by. The recount must still find
// each run's steps through steps_run: when `steps` had a B-tree leading with occurred_at, the
// planner took it for the run's time bound, a scan of the whole time range for every changed
// run (migration 0027). Checked on the plan, under the settings the recount runs with.
TEST_F(RunOrphansTest, TheRecountFindsARunsStepsByRunOnADayWithoutStatistics) {
  db_.Exec(
      "CREATE TABLE steps_p20300101 PARTITION OF steps "
      "FOR VALUES FROM ('2030-01-01 00:00+00') TO ('2030-01-02 00:00+00')");
  db_.Exec("ALTER TABLE steps_p20300101 SET (autovacuum_enabled = off)");  // stays unanalyzed
  // 50,000 steps of runs of 12 that each span up to an hour of the day: enough rows that an
  // occurred_at index looks as good as steps_run to a planner without statistics.
  db_.Exec(R"sql(
    INSERT INTO steps (event_id, occurred_at, received_at, digest, feature, team,
                       workload_class, tenant, environment, parent_run_id, charged_feature,
                       charged_team, charged_workload_class, charged_tenant, attribution_status,
                       step_id, parent_step_id, kind, cost_source, attempt)
    SELECT 'e-' || g, timestamptz '2030-01-01 10:00+00' + ((g * 7919) % 3600) * interval '1 s',
           now(), sha256(('e-' || g)::bytea), 'f', 't', 'interactive', 'acme', 'production',
           'run-' || g / 12, 'f', 't', 'interactive', 'acme', 'complete', 'step-' || g % 12,
           CASE WHEN g % 12 = 0 THEN '' ELSE 'step-0' END, 'model_call', 'reported', 1
    FROM generate_series(1, 50000) g)sql");
  ASSERT_EQ(db_.Count("SELECT count(*) FROM pg_stats WHERE tablename = 'steps_p20300101'"), 0);

  pqxx::connection conn(db_.url());
  pqxx::work txn(conn);
  txn.exec0("SET LOCAL jit = off");  // as RecountChangedRunOrphans runs it
  txn.exec0("SET LOCAL enable_bitmapscan = off");
  const pqxx::result plan = txn.exec_params(
      std::string("EXPLAIN ") + storage::queries::kRecountRunOrphans, "2029-12-31 00:00:00+00");
  int scans = 0;
  std::string text;
  for (const auto& row : plan) {
    const std::string line = row[0].as<std::string>();
    text += line + "\n";
    if (line.find(" on steps_p20300101 ") == std::string::npos) continue;
    ++scans;
    EXPECT_NE(line.find("steps_p20300101_parent_run_id_step_id_idx"), std::string::npos) << line;
  }
  EXPECT_EQ(scans, 2) << "the run's steps, and their parents:\n" << text;
}

// The other run gauges read only the runs that add to them (runs_to_watch, migration 0026):
// open runs, pending steps and drifted steps, within the window.
using RunGaugesTest = RunOrphansTest;

TEST_F(RunGaugesTest, OpenPendingAndDriftCountTheWindowsRunsThatHaveThem) {
  WritePath path(db_.url());
  path.Send({StepOf("rooted", "root", ""), StepOf("rooted", "tool", "root")});
  Step bare = StepOf("open", "tool", "root");  // its root has not arrived
  bare.tags = {.environment = domain::Environment::kProduction, .parent_run_id = "open"};
  path.Send({bare});  // pending: it carries no tags of its own to be charged to meanwhile
  Step drifted = StepOf("drift", "tool", "root");
  drifted.tags.feature = "summarize";  // the root says inbox-triage
  path.Send({StepOf("drift", "root", "")});
  path.Send({drifted});
  storage::OpenRunStats stats = Read();
  EXPECT_EQ(stats.open_runs, 1);
  EXPECT_EQ(stats.pending_steps, 1);
  EXPECT_EQ(stats.drift_steps, 1);

  db_.Exec(
      "UPDATE runs SET last_received_at = now() - interval '25 hours' "
      "WHERE parent_run_id = 'open'");
  storage::OpenRunStats later = Read();
  EXPECT_EQ(later.open_runs, 0) << "outside the 24-hour window";
  EXPECT_EQ(later.pending_steps, 0);
  EXPECT_EQ(later.drift_steps, 1);
}

}  // namespace
}  // namespace stepledger
