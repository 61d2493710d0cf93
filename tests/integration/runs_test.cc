// Integration: runs, inheritance and drift, maintained by the write path in PostgreSQL.
#include <map>
#include <pqxx/pqxx>
#include <random>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_ledger_store.h"
#include "server/storage/run_upkeep.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/run_generator.h"
#include "tests/fakes/write_path.h"

namespace stepledger {
namespace {

using domain::Step;
using domain::ingest::BatchResult;
using domain::ingest::GroupCommitter;
using domain::ingest::IngestService;
using domain::ingest::LedgerStore;
using domain::ingest::ReceivedEvent;
using testing::TestDatabase;

using testing::WritePath;

Step Root(const std::string& run, const std::string& team = "mail-ai") {
  Step s;
  s.event_id = run + "-root";
  s.tags = {"inbox-triage",
            team,
            domain::WorkloadClass::kInteractive,
            "acme",
            domain::Environment::kProduction,
            run};
  s.step_id = "root";
  s.kind = domain::StepKind::kModelCall;
  s.cost_nano_usd = 5000;
  s.started_at = absl::Now() - absl::Minutes(5);
  return s;
}

// A tool step emitted by another team's service: only run id and parent step id.
Step BareChild(const std::string& run, const std::string& id, const std::string& parent = "root") {
  Step s;
  s.event_id = run + "-" + id;
  s.tags.environment = domain::Environment::kProduction;
  s.tags.parent_run_id = run;
  s.step_id = id;
  s.parent_step_id = parent;
  s.kind = domain::StepKind::kToolCall;
  s.tool_name = "crm_lookup";
  s.tool_owner_team = "crm-platform";
  s.cost_nano_usd = 700;
  s.started_at = absl::Now() - absl::Minutes(4);
  return s;
}

class RunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
  }
  std::string Text(const std::string& sql) {
    pqxx::connection c(db_.url());
    pqxx::nontransaction t(c);
    return t.exec1(sql)[0].as<std::string>();
  }
  TestDatabase db_;
};

TEST_F(RunsTest, ChildInheritsFromARootThatIsOnlyInPostgresAfterARestart) {
  {
    WritePath before(db_.url());
    EXPECT_EQ(before.Send({Root("r1")}).accepted, 1);
  }  // "restart": nothing survives in memory
  WritePath after(db_.url());
  BatchResult r = after.Send({BareChild("r1", "tool-1")});
  EXPECT_EQ(r.accepted, 1);
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_EQ(Text("SELECT attribution_status || '/' || charged_team || '/' || charged_feature || "
                 "'/' || tool_owner_team FROM steps WHERE step_id = 'tool-1'"),
            "inherited/mail-ai/inbox-triage/crm-platform");
  EXPECT_EQ(db_.Count("SELECT pending_steps FROM runs WHERE parent_run_id = 'r1'"), 0);
}

// Sees what observers (metrics, budget counters) see after a commit.
class RecordingObserver final : public domain::ingest::CommitObserver {
 public:
  void OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                        absl::Span<const domain::ingest::Outcome> outcomes,
                        absl::Duration) override {
    absl::MutexLock lock(&mu);
    for (size_t i = 0; i < items.size(); ++i) {
      if (outcomes[i] != domain::ingest::Outcome::kAccepted) continue;
      seen[items[i]->step.event_id] =
          std::string(domain::ToString(items[i]->status)) + "/" + items[i]->charged.team;
    }
  }
  void OnGroupFailed(const absl::Status&, size_t) override {}
  absl::Mutex mu;
  std::map<std::string, std::string> seen;
};

TEST_F(RunsTest, ObserversSeeTheChargeTheLedgerRecorded) {
  RecordingObserver observer;
  WritePath path(db_.url(), {.observer = &observer});
  path.Send({Root("r9")});
  path.Send({BareChild("r9", "tool-1")});
  absl::MutexLock lock(&observer.mu);
  EXPECT_EQ(observer.seen["r9-root"], "complete/mail-ai");
  EXPECT_EQ(observer.seen["r9-tool-1"], "inherited/mail-ai")
      << "not the (pending) placeholder the event was validated with";
}

TEST_F(RunsTest, ChildBeforeItsRootIsPendingThenChargedWhenTheRootArrives) {
  WritePath path(db_.url());
  path.Send({BareChild("r2", "tool-1"), BareChild("r2", "tool-2", "tool-1")});
  EXPECT_EQ(Text("SELECT string_agg(attribution_status, ',') FROM steps"), "pending,pending");
  EXPECT_EQ(db_.Count("SELECT pending_steps FROM runs WHERE parent_run_id = 'r2'"), 2);
  EXPECT_EQ(Text("SELECT status FROM runs WHERE parent_run_id = 'r2'"), "open");
  path.Send({Root("r2")});
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps WHERE attribution_status = 'inherited' AND "
                      "charged_team = 'mail-ai'"),
            2);
  EXPECT_EQ(db_.Count("SELECT pending_steps FROM runs WHERE parent_run_id = 'r2'"), 0);
  EXPECT_EQ(Text("SELECT status || '/' || root_step_id || '/' || charged_team FROM runs"),
            "rooted/root/mail-ai");
  EXPECT_EQ(db_.Count("SELECT total_cost_nano_usd FROM runs WHERE parent_run_id = 'r2'"), 6400);
}

TEST_F(RunsTest, RootAndChildrenInOneGroupAreChargedTogether) {
  WritePath path(db_.url());
  path.Send({BareChild("r3", "tool-1"), Root("r3")});
  EXPECT_EQ(Text("SELECT attribution_status || '/' || charged_team FROM steps WHERE step_id = "
                 "'tool-1'"),
            "inherited/mail-ai");
}

TEST_F(RunsTest, PendingStepTimesOutAsUnattributedAndALateRootStillClaimsIt) {
  WritePath path(db_.url());
  path.Send({BareChild("r4", "tool-1")});
  auto expired = storage::ExpirePendingInheritance(db_.url(), absl::Now() + absl::Minutes(1));
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_EQ(*expired, 1);
  EXPECT_EQ(Text("SELECT attribution_status || '/' || attribution_reason || '/' || charged_team "
                 "FROM steps"),
            "quarantined/root_never_arrived/(unattributed)");
  EXPECT_EQ(db_.Count("SELECT pending_steps FROM runs"), 0);
  // Not yet due: nothing happens.
  path.Send({BareChild("r5", "tool-1")});
  EXPECT_EQ(*storage::ExpirePendingInheritance(db_.url(), absl::Now() - absl::Minutes(15)), 0);
  path.Send({Root("r4")});
  EXPECT_EQ(Text("SELECT attribution_status || '/' || charged_team FROM steps WHERE "
                 "parent_run_id = 'r4' AND step_id = 'tool-1'"),
            "inherited/mail-ai");
}

TEST_F(RunsTest, TagDriftIsChargedToTheRootAndCounted) {
  WritePath path(db_.url());
  Step drifted = Root("r6", "search-team");
  drifted.event_id = "r6-child";
  drifted.step_id = "child";
  drifted.parent_step_id = "root";
  path.Send({drifted});  // before its root: charged to its own tags for now
  path.Send({Root("r6")});
  EXPECT_EQ(Text("SELECT team || '->' || charged_team || '/' || tag_drift FROM steps WHERE "
                 "step_id = 'child'"),
            "search-team->mail-ai/true");
  EXPECT_EQ(db_.Count("SELECT drift_steps FROM runs WHERE parent_run_id = 'r6'"), 1);
}

TEST_F(RunsTest, OpenRunGaugesCountOpenRunsPendingStepsAndOrphans) {
  WritePath path(db_.url());
  path.Send({BareChild("r7", "tool-1")});  // open run, one pending step
  Step orphan = Root("r8");
  orphan.event_id = "r8-orphan";
  orphan.step_id = "orphan";
  orphan.parent_step_id = "ghost";  // never sent
  path.Send({Root("r8"), orphan});
  auto stats = storage::ReadOpenRunStats(db_.url(), absl::Hours(24));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->open_runs, 1);
  EXPECT_EQ(stats->pending_steps, 1);
  EXPECT_EQ(stats->orphan_steps, 2) << "tool-1 (its root is not there) and orphan";
}

// The count looks for a step's parent only in its run's own days (kRecountRunOrphans prunes by the
// run's first_seen and last_seen): a parent stored a day before its child, in another day's
// partition, is still found, and a missing one is still counted.
TEST_F(RunsTest, OrphanCountFindsAParentStoredInAnotherDaysPartition) {
  WritePath path(db_.url());
  Step root = Root("r9");
  root.started_at = absl::Now() - absl::Hours(26);  // another UTC day than its children
  Step child = BareChild("r9", "child");
  Step lost = BareChild("r9", "lost", "ghost");  // never sent
  path.Send({root});
  path.Send({child, lost});
  ASSERT_EQ(db_.Count("SELECT count(DISTINCT tableoid) FROM steps WHERE parent_run_id = 'r9'"), 2);
  auto stats = storage::ReadOpenRunStats(db_.url(), absl::Hours(24));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->orphan_steps, 1) << "only lost: child's root is in yesterday's partition";
}

// The runs table must always equal a recomputation from the ledger.
TEST_F(RunsTest, RunsTableEqualsARecomputationFromTheLedger) {
  testing::RunGeneratorOptions options;
  options.start = absl::Now() - absl::Hours(30);
  testing::RunGenerator generator(99, options);
  std::vector<Step> all;
  for (int i = 0; i < 60; ++i) {
    testing::GeneratedRun run = generator.Next();
    for (Step& s : run.steps) all.push_back(std::move(s));
  }
  std::mt19937 rng(5);
  std::shuffle(all.begin(), all.end(), rng);
  WritePath path(db_.url());
  for (size_t i = 0; i < all.size(); i += 97) {
    std::vector<Step> batch(all.begin() + i, all.begin() + std::min(all.size(), i + 97));
    BatchResult r = path.Send(batch);
    EXPECT_TRUE(r.rejected.empty()) << r.rejected[0].field << ": " << r.rejected[0].reason;
  }
  path.Send(std::vector<Step>(all.begin(), all.begin() + 50));  // re-sends change nothing

  const char* kDiff = R"sql(
    WITH recomputed AS (
      SELECT parent_run_id, count(*) AS step_count,
             COALESCE(sum(cost_nano_usd), 0) AS total,
             count(*) FILTER (WHERE cost_nano_usd IS NULL) AS unpriced,
             count(*) FILTER (WHERE attempt > 1) AS retry_steps,
             COALESCE(sum(cost_nano_usd) FILTER (WHERE attempt > 1), 0) AS retry_cost,
             count(*) FILTER (WHERE tag_drift) AS drift,
             count(*) FILTER (WHERE attribution_status = 'pending') AS pending,
             min(step_id) FILTER (WHERE parent_step_id = '') AS root_step_id,
             min(occurred_at) AS first_seen, max(occurred_at) AS last_seen
      FROM steps GROUP BY parent_run_id)
    SELECT count(*) FROM recomputed c FULL JOIN runs r USING (parent_run_id)
    WHERE (c.step_count, c.total, c.unpriced, c.retry_steps, c.retry_cost, c.drift, c.pending,
           c.root_step_id, c.first_seen, c.last_seen)
          IS DISTINCT FROM
          (r.step_count, r.total_cost_nano_usd, r.unpriced_steps, r.retry_steps,
           r.retry_cost_nano_usd, r.drift_steps, r.pending_steps, r.root_step_id,
           r.first_seen, r.last_seen))sql";
  EXPECT_EQ(db_.Count(kDiff), 0);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM runs"), 60);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps WHERE attribution_status = 'pending'"), 0);
  // Every step is charged to its run root's team (the calling feature pays).
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps s JOIN runs r USING (parent_run_id) "
                      "WHERE s.charged_team IS DISTINCT FROM r.charged_team"),
            0);
}

}  // namespace
}  // namespace stepledger
