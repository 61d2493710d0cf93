// Integration: budgets against a real PostgreSQL: audited caps, acknowledgements, and spend
// counters that survive a restart and agree with the ledger.
#include <chrono>
#include <future>
#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/engine.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_budget_store.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/write_path.h"

namespace stepledger {
namespace {

using domain::Step;
using domain::budget::BudgetCoordinator;
using domain::budget::BudgetEngine;
using domain::budget::Cap;
using domain::budget::CheckRequest;
using domain::budget::CheckResult;
using domain::budget::Decision;
using testing::TestDatabase;
using testing::WritePath;

// One replica's budget half: engine + coordinator over the real store.
struct Replica {
  explicit Replica(const std::string& url)
      : store(url), engine(clock), budgets(engine, store, clock, nullptr) {
    absl::Status s = budgets.Start();
    EXPECT_TRUE(s.ok()) << s;
  }
  domain::SystemClock clock;
  storage::PgBudgetStore store;
  BudgetEngine engine;
  BudgetCoordinator budgets;
};

Cap TeamCap(domain::NanoUsd limit) {
  Cap cap;
  cap.id = "team-mail-ai-monthly";
  cap.scope = domain::budget::Scope::kTeam;
  cap.key = "mail-ai";
  cap.period = domain::budget::Period::kMonthly;
  cap.limit_nano_usd = limit;
  cap.owner = "mail-ai-lead";
  cap.signed_off_by = "finance";
  return cap;
}

Step Spend(const std::string& id, domain::NanoUsd cost) {
  Step s;
  s.event_id = id;
  s.tags = {"inbox-triage",
            "mail-ai",
            domain::WorkloadClass::kInteractive,
            "acme",
            domain::Environment::kProduction,
            "run-" + id};
  s.step_id = "root";
  s.kind = domain::StepKind::kModelCall;
  s.cost_nano_usd = cost;
  s.started_at = absl::Now() - absl::Seconds(30);
  return s;
}

CheckRequest Check(domain::NanoUsd estimate) {
  CheckRequest r;
  r.tags = Spend("x", 0).tags;
  r.estimated_cost_nano_usd = estimate;
  return r;
}

domain::NanoUsd SpentOn(const CheckResult& result, const std::string& cap_id) {
  for (const auto& c : result.caps) {
    if (c.cap->id == cap_id) return c.spent;
  }
  ADD_FAILURE() << "cap " << cap_id << " not in the check";
  return -1;
}

class BudgetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
  }
  TestDatabase db_;
};

TEST_F(BudgetStoreTest, EveryCapChangeIsAuditedWithBeforeAndAfter) {
  Replica r(db_.url());
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(100), "alice").ok());
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(200), "bob").ok());
  ASSERT_TRUE(r.budgets.DeleteCap("team-mail-ai-monthly", "carol").ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_audit"), 3);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_audit WHERE action = 'create' AND "
                      "changed_by = 'alice' AND before IS NULL AND "
                      "(after->>'limit_nano_usd')::bigint = 100"),
            1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_audit WHERE action = 'update' AND "
                      "changed_by = 'bob' AND (before->>'limit_nano_usd')::bigint = 100 AND "
                      "(after->>'limit_nano_usd')::bigint = 200 AND after->>'action' = "
                      "'require_ack'"),
            1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_audit WHERE action = 'delete' AND "
                      "changed_by = 'carol' AND after IS NULL"),
            1);
  EXPECT_TRUE(absl::IsNotFound(r.budgets.DeleteCap("team-mail-ai-monthly", "carol")));
  EXPECT_FALSE(r.budgets.PutCap(TeamCap(100), "").ok()) << "changes need a name for the audit";
}

TEST_F(BudgetStoreTest, CountersAfterARestartEqualTheLedger) {
  {
    Replica first(db_.url());
    ASSERT_TRUE(first.budgets.PutCap(TeamCap(1'000'000), "alice").ok());
    WritePath path(db_.url(), {.observer = &first.budgets, .counter_owner = "first/w0"});
    path.Send({Spend("a", 1000), Spend("b", 2500), Spend("a", 1000)});  // one re-send
    ASSERT_TRUE(first.budgets.Refresh().ok());
    auto check = first.budgets.Check(Check(0));
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_EQ(SpentOn(*check, "team-mail-ai-monthly"), 3500) << "own commits, no double count";
  }
  // Restart: a new process with a new writer id; nothing in memory.
  Replica second(db_.url());
  auto check = second.budgets.Check(Check(0));
  ASSERT_TRUE(check.ok());
  const int64_t ledger = db_.Count(
      "SELECT sum(cost_nano_usd) FROM steps WHERE charged_team = 'mail-ai' AND "
      "occurred_at >= date_trunc('month', now(), 'UTC')");
  EXPECT_EQ(SpentOn(*check, "team-mail-ai-monthly"), ledger);
  EXPECT_EQ(ledger, 3500);
}

// Writers count every key, watched or not (migration 0013), so a cap added later starts from
// the spend already stored, read at once by PutBudget: no recount of the ledger.
TEST_F(BudgetStoreTest, ACapAddedLaterStartsFromTheSpendWritersCountedBeforeIt) {
  WritePath path(db_.url());
  path.Send({Spend("early-1", 4000), Spend("early-2", 6000)});  // no cap yet
  EXPECT_EQ(db_.Count("SELECT sum(spent_nano_usd) FROM spend_counters WHERE scope = 'team' AND "
                      "key = 'mail-ai' AND period = 'monthly'"),
            10000)
      << "counted by the writer though no cap watches the key";
  Replica r(db_.url());
  EXPECT_EQ(r.engine.Stats().counters, 2u) << "the org's only: no cap watches anything else";
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(1'000'000), "alice").ok());
  EXPECT_EQ(SpentOn(*r.budgets.Check(Check(0)), "team-mail-ai-monthly"), 10000)
      << "read by PutBudget itself, before any refresh";
  path.Send({Spend("late", 500)});
  ASSERT_TRUE(r.budgets.Refresh().ok());
  auto check = r.budgets.Check(Check(0));
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(SpentOn(*check, "team-mail-ai-monthly"), 10500);
  // Putting the cap again (an update) counts nothing twice.
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(2'000'000), "alice").ok());
  ASSERT_TRUE(r.budgets.Refresh().ok());
  EXPECT_EQ(SpentOn(*r.budgets.Check(Check(0)), "team-mail-ai-monthly"), 10500);
}

TEST_F(BudgetStoreTest, EveryPeriodIsCountedSoACapOnEitherPeriodIsRightAtOnce) {
  Replica r(db_.url());
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(1'000'000), "alice").ok());  // monthly only
  WritePath path(db_.url(), {.observer = &r.budgets, .counter_owner = "r/w0"});
  path.Send({Spend("m-1", 700), Spend("m-2", 300)});
  EXPECT_EQ(db_.Count("SELECT sum(spent_nano_usd) FROM spend_counters WHERE key = 'mail-ai' "
                      "AND period = 'daily'"),
            1000);

  // A daily cap on the same key appears later: its counter is there already.
  Cap daily = TeamCap(1'000'000);
  daily.id = "team-mail-ai-daily";
  daily.period = domain::budget::Period::kDaily;
  ASSERT_TRUE(r.budgets.PutCap(daily, "alice").ok());
  path.Send({Spend("d-1", 50)});
  ASSERT_TRUE(r.budgets.Refresh().ok());
  auto check = r.budgets.Check(Check(0));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(SpentOn(*check, "team-mail-ai-daily"), 1050);
  EXPECT_EQ(SpentOn(*check, "team-mail-ai-monthly"), 1050);

  // The monthly cap moves to daily, and back: the monthly rows were kept up to date meanwhile.
  Cap moved = TeamCap(1'000'000);
  moved.period = domain::budget::Period::kDaily;
  ASSERT_TRUE(r.budgets.PutCap(moved, "alice").ok());
  path.Send({Spend("d-2", 5)});
  ASSERT_TRUE(r.budgets.Refresh().ok());
  check = r.budgets.Check(Check(0));
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(SpentOn(*check, "team-mail-ai-daily"), 1055);
  EXPECT_EQ(SpentOn(*check, "team-mail-ai-monthly"), 1055);
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(1'000'000), "alice").ok());
  EXPECT_EQ(SpentOn(*r.budgets.Check(Check(0)), "team-mail-ai-monthly"), 1055);
}

// Issue 15, item 5: a cap change used to lock spend_counters against writers and recount the
// ledger under that lock. Now a writer's open transaction (holding its counter rows) does not
// delay PutBudget, and PutBudget holds nothing a writer needs.
TEST_F(BudgetStoreTest, PutBudgetNeitherWaitsForNorBlocksAWriter) {
  Replica r(db_.url());
  WritePath path(db_.url(), {.observer = &r.budgets, .counter_owner = "r/w0"});
  path.Send({Spend("a", 100)});
  // A writer mid-transaction: its counter row updated, not committed yet.
  pqxx::connection writer(db_.url());
  pqxx::work open_txn(writer);
  open_txn.exec(
      "UPDATE spend_counters SET spent_nano_usd = spent_nano_usd + 1, "
      "changed_xid = pg_current_xact_id() WHERE owner = 'r/w0'");
  auto put =
      std::async(std::launch::async, [&] { return r.budgets.PutCap(TeamCap(1'000'000), "alice"); });
  const bool done = put.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  open_txn.commit();  // lets a blocked PutBudget finish either way
  EXPECT_TRUE(done) << "PutBudget waited for a writer's open transaction";
  const absl::StatusOr<Cap> put_result = put.get();
  ASSERT_TRUE(put_result.ok()) << put_result.status();
  // And writers go on while caps change.
  const auto start = absl::Now();
  for (int i = 0; i < 20; ++i) {
    Cap cap = TeamCap(1'000'000);
    cap.id = absl::StrCat("tenant-", i);
    cap.scope = domain::budget::Scope::kTenant;
    cap.key = absl::StrCat("tenant-", i);
    ASSERT_TRUE(r.budgets.PutCap(cap, "alice").ok());
    path.Send({Spend(absl::StrCat("during-", i), 10)});
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ASSERT_TRUE(r.budgets.Refresh().ok());
  EXPECT_EQ(SpentOn(*r.budgets.Check(Check(0)), "team-mail-ai-monthly"), 100 + 1 + 20 * 10);
}

// Issue 15, item 4: the engine holds counters for watched keys only, however many keys have
// spend; what storage holds for the others stays there.
TEST_F(BudgetStoreTest, ManyUnwatchedTenantsAddNothingToTheEngine) {
  Replica r(db_.url());
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(1'000'000), "alice").ok());
  WritePath path(db_.url(), {.observer = &r.budgets, .counter_owner = "r/w0"});
  std::vector<Step> steps;
  for (int i = 0; i < 500; ++i) {
    Step s = Spend(absl::StrCat("t-", i), 2);
    s.tags.tenant = absl::StrCat("tenant-", i);
    steps.push_back(s);
  }
  path.Send(steps);
  ASSERT_TRUE(r.budgets.Refresh().ok());
  EXPECT_EQ(db_.Count("SELECT count(DISTINCT key) FROM spend_counters WHERE scope = 'tenant'"),
            500);
  // The team (watched) and the org: 2 periods each, in production only.
  EXPECT_EQ(r.engine.Stats().counters, 4u);
  EXPECT_EQ(SpentOn(*r.budgets.Check(Check(0)), "team-mail-ai-monthly"), 1000);

  // A restarted replica reads no more than that either: the watched series (the team's
  // monthly one) and the org's two.
  Replica restarted(db_.url());
  EXPECT_EQ(restarted.engine.Stats().counters, 3u);
  EXPECT_EQ(SpentOn(*restarted.budgets.Check(Check(0)), "team-mail-ai-monthly"), 1000);
}

TEST_F(BudgetStoreTest, PruneCountersDropsOnlyPeriodsNoReplicaReads) {
  storage::PgBudgetStore store(db_.url());
  db_.Exec(
      "INSERT INTO spend_counters (owner, scope, key, environment, period, period_start, "
      "spent_nano_usd) VALUES "
      "('w', 'tenant', 'a', 'production', 'daily', '2026-10-30T00:00:00Z', 1), "
      "('w', 'tenant', 'a', 'production', 'daily', '2026-11-27T00:00:00Z', 1), "
      "('w', 'tenant', 'a', 'production', 'monthly', '2026-10-01T00:00:00Z', 1), "
      "('w', 'tenant', 'a', 'production', 'monthly', '2026-11-01T00:00:00Z', 1)");
  const absl::Time daily_before = absl::FromUnixSeconds(1795737600);    // 2026-11-27
  const absl::Time monthly_before = absl::FromUnixSeconds(1793491200);  // 2026-11-01
  absl::StatusOr<int64_t> pruned = store.PruneCounters(daily_before, monthly_before, 1);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 1) << "at most the limit";
  pruned = store.PruneCounters(daily_before, monthly_before, 100);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM spend_counters"), 2);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM spend_counters WHERE period_start IN "
                      "('2026-11-27T00:00:00Z', '2026-11-01T00:00:00Z')"),
            2);
}

TEST_F(BudgetStoreTest, EveryChangeToTheCapsMovesTheVersionTheRefreshWatches) {
  Replica a(db_.url());
  Replica b(db_.url());
  const int64_t start = *b.store.CapsVersion();
  ASSERT_TRUE(a.budgets.PutCap(TeamCap(1'000'000), "alice").ok());
  EXPECT_GT(*b.store.CapsVersion(), start) << "PutBudget";
  ASSERT_TRUE(b.budgets.Refresh().ok());
  ASSERT_EQ(b.budgets.ListCaps().size(), 1u);

  // Edits that bypass the API (a hand edit, a bulk load) are seen too.
  const int64_t before_edit = *b.store.CapsVersion();
  db_.Exec("UPDATE budgets SET limit_nano_usd = 42");
  EXPECT_GT(*b.store.CapsVersion(), before_edit);
  ASSERT_TRUE(b.budgets.Refresh().ok());
  ASSERT_EQ(b.budgets.ListCaps().size(), 1u);
  EXPECT_EQ(b.budgets.ListCaps()[0].limit_nano_usd, 42);

  const int64_t before_truncate = *b.store.CapsVersion();
  db_.Exec("TRUNCATE budgets");
  EXPECT_GT(*b.store.CapsVersion(), before_truncate);
  ASSERT_TRUE(b.budgets.Refresh().ok());
  EXPECT_TRUE(b.budgets.ListCaps().empty());

  // Reading is not a change.
  const int64_t idle = *b.store.CapsVersion();
  ASSERT_TRUE(b.budgets.Refresh().ok());
  EXPECT_EQ(*b.store.CapsVersion(), idle);
}

TEST_F(BudgetStoreTest, SpendMovesWithTheChargeWhenALateRootArrives) {
  Replica r(db_.url());
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(1'000'000), "alice").ok());
  Cap other = TeamCap(1'000'000);
  other.id = "team-search-monthly";
  other.key = "search-team";
  ASSERT_TRUE(r.budgets.PutCap(other, "alice").ok());
  WritePath path(db_.url());
  Step drifted = Spend("child", 700);
  drifted.tags.team = "search-team";  // its own team, but the run's root says mail-ai
  drifted.tags.parent_run_id = "run-late";
  drifted.step_id = "child";
  drifted.parent_step_id = "root";
  Step pending = drifted;
  pending.event_id = "pending-child";
  pending.step_id = "child-2";
  pending.tags.feature.clear();
  pending.tags.team.clear();
  pending.tags.tenant.clear();
  pending.cost_nano_usd = 300;
  path.Send({drifted, pending});  // before the root: search-team pays 700 for now
  ASSERT_TRUE(r.budgets.Refresh().ok());
  EXPECT_EQ(SpentOn(*r.budgets.Check(Check(0)), "team-mail-ai-monthly"), 0);
  Step root = Spend("root", 5000);
  root.tags.parent_run_id = "run-late";
  path.Send({root});
  ASSERT_TRUE(r.budgets.Refresh().ok());
  auto check = r.budgets.Check(Check(0));
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(SpentOn(*check, "team-mail-ai-monthly"), 6000) << "root + drifted + inherited";
  EXPECT_EQ(db_.Count("SELECT COALESCE(sum(spent_nano_usd), 0) FROM spend_counters WHERE "
                      "key = 'search-team' AND period = 'monthly'"),
            0)
      << "the drifted step's spend left the team it was first counted for";
}

TEST_F(BudgetStoreTest, AcknowledgementsAreKeptForeverAndReloaded) {
  Replica r(db_.url());
  ASSERT_TRUE(r.budgets.PutCap(TeamCap(1000), "alice").ok());
  WritePath path(db_.url(), {.observer = &r.budgets});
  path.Send({Spend("big", 900)});
  auto over = r.budgets.Check(Check(200));
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->decision, Decision::kRequireAck);
  auto ack = r.budgets.Acknowledge("team-mail-ai-monthly", "mail-ai-lead", "launch week", 5000,
                                   absl::Now() + absl::Hours(24));
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_NE(r.budgets.Check(Check(200))->decision, Decision::kRequireAck);

  Replica restarted(db_.url());
  EXPECT_NE(restarted.budgets.Check(Check(200))->decision, Decision::kRequireAck)
      << "the acknowledgement survives a restart";
  ASSERT_TRUE(restarted.budgets.DeleteCap("team-mail-ai-monthly", "alice").ok());
  EXPECT_EQ(db_.Count("SELECT count(*) FROM acknowledgements WHERE principal = 'mail-ai-lead' "
                      "AND reason = 'launch week'"),
            1);
  EXPECT_TRUE(absl::IsNotFound(
      restarted.budgets.Acknowledge("nope", "x", "y", 1, absl::Now() + absl::Hours(1)).status()));
}

}  // namespace
}  // namespace stepledger
