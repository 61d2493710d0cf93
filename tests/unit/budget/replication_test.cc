// Start-up recovery and multi-replica refresh: own spend is exact, other replicas' spend comes
// from snapshots, and nothing is counted twice.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/domain/budget/engine.h"
#include "server/domain/budget/period.h"
#include "tests/unit/budget/engine_fixture.h"

namespace stepledger::domain::budget {
namespace {

using testing::EngineTest;
using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using testing::Req;

CounterKey TeamDailyKey(absl::Time now) {
  return {Scope::kTeam, "search", Environment::kProduction, Period::kDaily,
          PeriodStart(Period::kDaily, now)};
}

SharedSnapshot Snapshot(absl::Time as_of, const CounterKey& key, NanoUsd spent,
                        NanoUsd reserved = 0) {
  return {as_of, {{key, spent, reserved}}};
}

using ReplicationTest = EngineTest;

// At start-up the first refresh reads every replica's stored spend, with no own part yet.
TEST_F(ReplicationTest, FirstSnapshotRestoresSpendAtStartUp) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  ASSERT_TRUE(
      engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), TeamDailyKey(clock_.Now()), 85 * kUsd), {})
          .ok());
  EXPECT_EQ(DecisionFor(10 * kUsd), Decision::kAlert);
  EXPECT_EQ(DecisionFor(16 * kUsd), Decision::kRequireAck);
  CounterKey misaligned = TeamDailyKey(clock_.Now());
  misaligned.period_start += absl::Hours(1);
  EXPECT_EQ(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), misaligned, 1), {}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ReplicationTest, RepeatedSnapshotsAndLocalSpendNeverDoubleCount) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CounterKey key = TeamDailyKey(clock_.Now());
  Spend(30 * kUsd);
  ASSERT_TRUE(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 20 * kUsd), {}).ok());
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 50 * kUsd);
  // The same totals again (nothing new elsewhere): unchanged.
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 20 * kUsd), {}).ok());
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 50 * kUsd);
  // Local spend after the snapshot, then a snapshot with others' growth.
  Spend(5 * kUsd);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 25 * kUsd), {}).ok());
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 60 * kUsd);
}

TEST_F(ReplicationTest, OlderSnapshotIsRejectedAndChangesNothing) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CounterKey key = TeamDailyKey(clock_.Now());
  ASSERT_TRUE(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 40 * kUsd), {}).ok());
  EXPECT_EQ(engine_.ApplyFullSnapshot(Snapshot(clock_.Now() - absl::Seconds(1), key, 1), {}).code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 40 * kUsd);
}

TEST_F(ReplicationTest, OtherReplicasReservationsCountInTheProjection) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CounterKey key = TeamDailyKey(clock_.Now());
  ASSERT_TRUE(
      engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 10 * kUsd, 80 * kUsd), {}).ok());
  const CheckResult r = MustCheck(Req(11 * kUsd));
  EXPECT_EQ(StatusOf(r, "team").reserved, 80 * kUsd);
  EXPECT_EQ(r.decision, Decision::kRequireAck);
}

TEST_F(ReplicationTest, FullSnapshotSubtractsTheLocalBaselineAndNeverUndercounts) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CounterKey key = TeamDailyKey(clock_.Now());
  Spend(30 * kUsd);
  std::vector<CounterTotals> baseline = engine_.ExportLocalCounters();
  // The table's total includes this replica's 30; 20 came from elsewhere.
  ASSERT_TRUE(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 50 * kUsd), baseline).ok());
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 50 * kUsd);

  // A local commit lands between taking the baseline and reading the totals: counted twice
  // until the next refresh (over, never under).
  baseline = engine_.ExportLocalCounters();
  Spend(5 * kUsd);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 55 * kUsd), baseline).ok());
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 60 * kUsd);
  baseline = engine_.ExportLocalCounters();
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(engine_.ApplyFullSnapshot(Snapshot(clock_.Now(), key, 55 * kUsd), baseline).ok());
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 55 * kUsd);
}

// A refresh reads every row each second; rows equal to what was applied must change nothing
// (no burn, no headroom consumed, however often they come), while the rows that did change in
// the same snapshot are applied.
TEST_F(ReplicationTest, UnchangedRowsChangeNothingAndChangedRowsAreApplied) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  Put(MakeCap("tenant", Scope::kTenant, 100 * kUsd));
  const CounterKey team = TeamDailyKey(clock_.Now());
  CounterKey tenant = team;
  tenant.scope = Scope::kTenant;
  tenant.key = Req(0).tags.tenant;
  Ack("team", 50 * kUsd, absl::Hours(2));
  // 120 on the team from elsewhere: 20 past the limit draws on the acknowledged 50.
  ASSERT_TRUE(
      engine_.ApplyFullSnapshot({clock_.Now(), {{team, 120 * kUsd, 0}, {tenant, 0, 0}}}, {}).ok());
  CapStatus st = StatusOf(MustCheck(Req(0)), "team");
  ASSERT_EQ(st.acknowledged_headroom, 30 * kUsd);
  ASSERT_EQ(st.burn_rate_per_hour, 120 * kUsd);

  for (int i = 1; i <= 3; ++i) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(
        engine_
            .ApplyFullSnapshot({clock_.Now(), {{team, 120 * kUsd, 0}, {tenant, i * kUsd, 0}}}, {})
            .ok());
  }
  const CheckResult r = MustCheck(Req(0));
  st = StatusOf(r, "team");
  EXPECT_EQ(st.spent, 120 * kUsd);
  EXPECT_EQ(st.acknowledged_headroom, 30 * kUsd);
  EXPECT_EQ(st.burn_rate_per_hour, 120 * kUsd);
  EXPECT_EQ(StatusOf(r, "tenant").spent, 3 * kUsd);
  EXPECT_EQ(StatusOf(r, "tenant").burn_rate_per_hour, 3 * kUsd);
}

// The refresh compares rows under the shared lock and writes under the exclusive one while
// checks and commits go on. Every check must see the team's spend only grow (never a counter
// half-written, never others' part dropped), and the end state must be exact.
TEST_F(ReplicationTest, SnapshotsAppliedDuringChecksAndCommitsKeepSpendExact) {
  Put(MakeCap("team", Scope::kTeam, 1'000'000 * kUsd));
  const CounterKey key = TeamDailyKey(clock_.Now());
  constexpr int kSnapshots = 200;
  constexpr int kCommits = 1'000;
  std::atomic<bool> done{false};
  std::atomic<int> non_monotonic{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      NanoUsd last = 0;
      while (!done.load()) {
        const NanoUsd spent = StatusOf(MustCheck(Req(0)), "team").spent;
        if (spent < last) ++non_monotonic;
        last = spent;
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < kCommits; ++i) {
      ASSERT_TRUE(engine_.RecordSpend(ProdTags(), kUsd, clock_.Now(), "").ok());
    }
  });
  for (int i = 1; i <= kSnapshots; ++i) {
    // As storage does: this replica's own totals first, then a table total that includes
    // them plus i dollars from elsewhere.
    const std::vector<CounterTotals> baseline = engine_.ExportLocalCounters();
    NanoUsd own = 0;
    for (const CounterTotals& b : baseline) {
      if (b.key == key) own = b.spent;
    }
    SharedSnapshot totals{Start() + absl::Milliseconds(i), {{key, own + i * kUsd, 0}}};
    ASSERT_TRUE(engine_.ApplyFullSnapshot(totals, baseline).ok());
  }
  threads.back().join();
  threads.pop_back();
  done = true;
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(non_monotonic.load(), 0);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, (kCommits + kSnapshots) * kUsd);
}

// Two engines and an in-memory stand-in for the shared counters table (one row per replica and
// counter), refreshed the way storage will: export own totals, read everyone else's sums.
class TwoReplicaTest : public EngineTest {
 protected:
  TwoReplicaTest() : other_(clock_, EngineOptions{.instance_id = "b"}) {}

  void Publish(const std::string& replica, const BudgetEngine& engine) {
    for (const CounterTotals& row : engine.ExportLocalCounters()) table_[replica][row.key] = row;
  }
  // What replica `self` reads: the sum of every other replica's rows.
  SharedSnapshot ReadOthers(const std::string& self) {
    std::map<std::string, CounterTotals> sums;
    for (const auto& [replica, rows] : table_) {
      if (replica == self) continue;
      for (const auto& [key, row] : rows) {
        CounterTotals& sum = sums[absl::StrCat(static_cast<int>(key.scope), "/", key.key, "/",
                                               static_cast<int>(key.period), "/",
                                               absl::ToUnixSeconds(key.period_start))];
        sum.key = key;
        sum.spent += row.spent;
        sum.reserved += row.reserved;
      }
    }
    SharedSnapshot s{clock_.Now(), {}};
    for (auto& [unused, row] : sums) s.rows.push_back(row);
    return s;
  }
  void Refresh() {
    Publish("a", engine_);
    Publish("b", other_);
    ASSERT_TRUE(engine_.ApplyFullSnapshot(ReadOthers("a"), {}).ok());
    ASSERT_TRUE(other_.ApplyFullSnapshot(ReadOthers("b"), {}).ok());
  }
  NanoUsd TeamSpent(BudgetEngine& e) {
    auto r = e.Check(Req(0));
    EXPECT_TRUE(r.ok());
    return StatusOf(*r, "team").spent;
  }

  struct KeyLess {
    bool operator()(const CounterKey& a, const CounterKey& b) const {
      return std::tie(a.scope, a.key, a.environment, a.period, a.period_start) <
             std::tie(b.scope, b.key, b.environment, b.period, b.period_start);
    }
  };
  BudgetEngine other_;
  std::map<std::string, std::map<CounterKey, CounterTotals, KeyLess>> table_;
};

TEST_F(TwoReplicaTest, SpendOnOneReplicaIsSeenOnTheOtherAfterARefreshAndCountedOnce) {
  const Cap cap = MakeCap("team", Scope::kTeam, 100 * kUsd);
  Put(cap);
  ASSERT_TRUE(other_.UpsertCap(cap).ok());

  Spend(40 * kUsd);
  EXPECT_EQ(TeamSpent(other_), 0);  // Stale until the next refresh: the documented bound.
  Refresh();
  EXPECT_EQ(TeamSpent(other_), 40 * kUsd);
  EXPECT_EQ(TeamSpent(engine_), 40 * kUsd);

  ASSERT_TRUE(other_.RecordSpend(testing::ProdTags(), 30 * kUsd, clock_.Now(), "").ok());
  clock_.Advance(absl::Seconds(1));
  Refresh();
  clock_.Advance(absl::Seconds(1));
  Refresh();  // A second refresh with nothing new must not add anything.
  EXPECT_EQ(TeamSpent(engine_), 70 * kUsd);
  EXPECT_EQ(TeamSpent(other_), 70 * kUsd);
}

TEST_F(TwoReplicaTest, ReservationOnOneReplicaHoldsOnTheOtherAfterARefresh) {
  const Cap cap = MakeCap("team", Scope::kTeam, 100 * kUsd);
  Put(cap);
  ASSERT_TRUE(other_.UpsertCap(cap).ok());
  MustCheck(testing::ReserveReq(70 * kUsd, "step-a"));
  Refresh();
  auto r = other_.Check(testing::ReserveReq(40 * kUsd, "step-b"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decision, Decision::kRequireAck);
}

}  // namespace
}  // namespace stepledger::domain::budget
