// BudgetCoordinator's refresh reads only the counters that changed since its last read, and
// still ends every refresh with the same spend a full read would give.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/period.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using testing::Req;

// The shared counters table as the PostgreSQL store keeps it: one row per writer and counter,
// each with the id of the transaction that last wrote it. Transactions commit as they write, so
// a read's mark is simply the next id to be handed out (as text: marks are opaque).
class MarkedCountersRepository final : public stepledger::testing::MemoryBudgetRepository {
 public:
  absl::StatusOr<int64_t> CapsVersion() override {
    if (std::exchange(fail_next_caps_version, false)) {
      return absl::UnavailableError("read caps version: connection lost");
    }
    return caps_version;
  }

  absl::StatusOr<CounterTotalsRead> ReadCounterTotals(absl::Time since,
                                                      const ChangedCounters* changed) override {
    if (fail_next_read) {
      fail_next_read = false;
      return absl::UnavailableError("read counters: connection lost");
    }
    // What happens between the coordinator taking its baseline and the read's snapshot.
    if (during_read) std::exchange(during_read, nullptr)();
    reads.push_back(changed == nullptr ? std::nullopt : std::optional(*changed));
    // As PgBudgetStore reads: only the series a stored cap watches and the org's.
    std::vector<CounterSeries> watched;
    // Held in a variable: a range-for over *LoadCaps() would read a destroyed temporary.
    const absl::StatusOr<std::vector<Cap>> caps = LoadCaps();
    for (const Cap& cap : *caps) watched.push_back(SeriesOf(cap));
    auto in = [](const std::vector<CounterSeries>& list, const CounterKey& key) {
      const CounterSeries series{key.scope, key.key, key.environment, key.period};
      return std::find(list.begin(), list.end(), series) != list.end();
    };
    CounterTotalsRead read;
    for (const auto& [key, total] : Totals()) {
      if (PeriodEnd(key.period, key.period_start) <= since) continue;
      const bool is_new = changed != nullptr && in(changed->new_series, key);
      const bool named = changed != nullptr && std::find(changed->keys.begin(), changed->keys.end(),
                                                         key) != changed->keys.end();
      if (key.scope != Scope::kOrg && !in(watched, key) && !is_new && !named) continue;
      if (changed != nullptr && LastWrite(key) < std::stoll(changed->since_mark) && !named &&
          !is_new) {
        continue;
      }
      read.rows.push_back({key, total, 0});
    }
    read.next_mark = std::to_string(next_xid);
    return read;
  }

  // A writer's committed delta, in its own transaction.
  void Add(const std::string& owner, const CounterKey& key, NanoUsd delta) {
    Row& row = rows[{owner, Id(key)}];
    row.key = key;
    row.spent += delta;
    row.changed_xid = next_xid++;
  }

  absl::StatusOr<std::vector<CounterTotals>> ReadSeriesTotals(
      absl::Time since, const std::vector<CounterSeries>& series) override {
    series_reads.push_back(series);
    if (std::exchange(fail_next_series_read, false)) {
      return absl::UnavailableError("read counters of new caps: connection lost");
    }
    std::vector<CounterTotals> rows;
    for (const auto& [key, total] : Totals()) {
      const CounterSeries of{key.scope, key.key, key.environment, key.period};
      if (PeriodEnd(key.period, key.period_start) <= since) continue;
      if (std::find(series.begin(), series.end(), of) == series.end()) continue;
      rows.push_back({key, total, 0});
    }
    return rows;
  }

  absl::StatusOr<int64_t> PruneCounters(absl::Time daily_before, absl::Time monthly_before,
                                        int64_t limit) override {
    prunes.push_back({daily_before, monthly_before});
    return 0;
  }

  int64_t caps_version = 1;
  std::vector<std::pair<absl::Time, absl::Time>> prunes;  // (daily_before, monthly_before)
  bool fail_next_read = false;
  bool fail_next_series_read = false;
  bool fail_next_caps_version = false;
  std::function<void()> during_read;
  std::vector<std::optional<ChangedCounters>> reads;  // nullopt: a full read
  std::vector<std::vector<CounterSeries>> series_reads;

 private:
  struct Row {
    CounterKey key;
    NanoUsd spent = 0;
    int64_t changed_xid = 0;
  };
  using KeyId = std::tuple<int, std::string, int, int, int64_t>;
  static KeyId Id(const CounterKey& k) {
    return {static_cast<int>(k.scope), k.key, static_cast<int>(k.environment),
            static_cast<int>(k.period), absl::ToUnixSeconds(k.period_start)};
  }
  std::vector<std::pair<CounterKey, NanoUsd>> Totals() const {
    std::map<KeyId, std::pair<CounterKey, NanoUsd>> sums;
    for (const auto& [id, row] : rows) {
      auto& [key, total] = sums[std::get<1>(id)];
      key = row.key;
      total += row.spent;
    }
    std::vector<std::pair<CounterKey, NanoUsd>> out;
    for (const auto& [id, sum] : sums) out.push_back(sum);
    return out;
  }
  int64_t LastWrite(const CounterKey& key) const {
    int64_t last = -1;
    for (const auto& [id, row] : rows) {
      if (std::get<1>(id) == Id(key)) last = std::max(last, row.changed_xid);
    }
    return last;
  }

  std::map<std::pair<std::string, KeyId>, Row> rows;
  int64_t next_xid = 100;
};

// Records the counter reads the coordinator reports (for the metrics).
class CounterReadRecorder final : public BudgetObserver {
 public:
  void OnCheck(const CheckResult&, absl::Duration) override {}
  void OnCheckRejected() override {}
  void OnAcknowledgement() override {}
  void OnRefresh(BudgetEngine&) override {}
  void OnCounterRead(bool full, size_t rows) override { reads.emplace_back(full, rows); }

  std::vector<std::pair<bool, size_t>> reads;  // (full, rows)
};

class CoordinatorCounterReadTest : public ::testing::Test {
 protected:
  CoordinatorCounterReadTest() {
    // As PgBudgetStore keeps them: with the tier defaults applied (PutCap applies them).
    repo_.SetCap(ApplyCapDefaults(MakeCap("team", Scope::kTeam, 1000 * kUsd)));
    repo_.SetCap(ApplyCapDefaults(MakeCap("feature", Scope::kFeature, 1000 * kUsd)));
  }

  CounterKey Key(Scope scope, const std::string& key) const {
    return {scope, key, Environment::kProduction, Period::kDaily,
            PeriodStart(Period::kDaily, clock_.Now())};
  }
  CounterKey TeamKey() const { return Key(Scope::kTeam, "search"); }
  CounterKey FeatureKey() const { return Key(Scope::kFeature, "inbox-triage"); }

  NanoUsd Spent(const std::string& cap_id) {
    absl::StatusOr<CheckResult> r = coordinator_.Check(Req(0));
    EXPECT_TRUE(r.ok()) << r.status();
    for (const CapStatus& s : r->caps) {
      if (s.cap->id == cap_id) return s.spent;
    }
    ADD_FAILURE() << "no status for cap " << cap_id;
    return -1;
  }

  // A step this replica stores: its writer's row first (the commit), then the engine.
  void CommitLocally(NanoUsd cost, const std::string& step_id) {
    for (const CounterKey& key : {TeamKey(), FeatureKey()}) repo_.Add("me/w0", key, cost);
    ASSERT_TRUE(engine_.RecordSpend(ProdTags(), cost, clock_.Now(), step_id).ok());
  }

  // Refreshes once a second, as app/ does.
  void Refresh() {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(coordinator_.Refresh().ok());
  }

  stepledger::testing::FakeClock clock_{testing::Utc(2026, 11, 28, 12)};
  BudgetEngine engine_{clock_};
  MarkedCountersRepository repo_;
  CounterReadRecorder observer_;
  BudgetCoordinator coordinator_{engine_, repo_, clock_, &observer_, absl::Minutes(1)};
};

TEST_F(CoordinatorCounterReadTest, AfterTheFirstReadOnlyChangedCountersAreRead) {
  repo_.Add("other/w0", TeamKey(), 20 * kUsd);
  repo_.Add("other/w0", FeatureKey(), 3 * kUsd);
  ASSERT_TRUE(coordinator_.Start().ok());
  ASSERT_EQ(repo_.reads.size(), 1u);
  EXPECT_FALSE(repo_.reads[0].has_value()) << "the first read is in full";
  EXPECT_EQ(Spent("team"), 20 * kUsd);

  // Another replica adds to the team counter only.
  repo_.Add("other/w1", TeamKey(), 7 * kUsd);
  Refresh();
  ASSERT_EQ(repo_.reads.size(), 2u);
  ASSERT_TRUE(repo_.reads[1].has_value()) << "an incremental read";
  EXPECT_TRUE(repo_.reads[1]->keys.empty()) << "this replica charged nothing";
  EXPECT_EQ(Spent("team"), 27 * kUsd) << "summed over both writers of the other replica";
  EXPECT_EQ(Spent("feature"), 3 * kUsd) << "an unread counter keeps its spend";

  // Nothing changed: the read returns nothing and nothing moves.
  Refresh();
  EXPECT_EQ(Spent("team"), 27 * kUsd);
  EXPECT_EQ(Spent("feature"), 3 * kUsd);

  const std::vector<std::pair<bool, size_t>> reported = {{true, 2}, {false, 1}, {false, 0}};
  EXPECT_EQ(observer_.reads, reported) << "(full, rows) of each read, for the metrics";
}

TEST_F(CoordinatorCounterReadTest, OwnChargeMadeDuringTheReadIsCountedOnceFromTheNextRefresh) {
  ASSERT_TRUE(coordinator_.Start().ok());
  CommitLocally(5 * kUsd, "s1");
  Refresh();
  EXPECT_EQ(Spent("team"), 5 * kUsd);

  // A step commits after the refresh took its baseline and before its read: the read counts
  // the step as another replica's too, and its rows are not written again.
  repo_.during_read = [&] { CommitLocally(2 * kUsd, "s2"); };
  Refresh();
  EXPECT_EQ(Spent("team"), 9 * kUsd) << "the documented transient over-count (2 USD)";

  Refresh();
  ASSERT_TRUE(repo_.reads.back().has_value());
  const std::vector<CounterKey>& moved = repo_.reads.back()->keys;
  EXPECT_NE(std::find(moved.begin(), moved.end(), TeamKey()), moved.end())
      << "the team counter moved locally since the last baseline";
  EXPECT_EQ(Spent("team"), 7 * kUsd) << "exact again one refresh later";
  EXPECT_EQ(Spent("feature"), 7 * kUsd);
}

TEST_F(CoordinatorCounterReadTest, ACapChangeReadsOnlyItsSeriesAndTheIntervalReadsInFull) {
  ASSERT_TRUE(coordinator_.Start().ok());
  Refresh();
  EXPECT_TRUE(repo_.reads.back().has_value());

  const Cap tenant = ApplyCapDefaults(MakeCap("tenant", Scope::kTenant, 50 * kUsd));
  repo_.SetCap(tenant);
  ++repo_.caps_version;
  Refresh();
  ASSERT_TRUE(repo_.reads.back().has_value()) << "a cap change is no reason to read everything";
  const std::vector<CounterSeries> expected = {SeriesOf(tenant)};
  EXPECT_EQ(repo_.reads.back()->new_series, expected) << "the new cap's series, in full";
  Refresh();
  ASSERT_TRUE(repo_.reads.back().has_value());
  EXPECT_TRUE(repo_.reads.back()->new_series.empty());

  // A row edited without moving its mark (by hand, say) is picked up by the next full read.
  const size_t before = repo_.reads.size();
  clock_.Advance(absl::Minutes(1));
  Refresh();
  ASSERT_EQ(repo_.reads.size(), before + 1);
  EXPECT_FALSE(repo_.reads.back().has_value()) << "a minute after the last full read";
}

TEST_F(CoordinatorCounterReadTest, AfterAFailedReadTheNextReadIsInFull) {
  ASSERT_TRUE(coordinator_.Start().ok());
  Refresh();

  repo_.Add("other/w0", TeamKey(), 11 * kUsd);
  repo_.fail_next_read = true;
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(coordinator_.Refresh().ok());
  EXPECT_EQ(Spent("team"), 0) << "the last known counters";

  Refresh();
  EXPECT_FALSE(repo_.reads.back().has_value()) << "a mark may not survive a database change";
  EXPECT_EQ(Spent("team"), 11 * kUsd) << "the change made before the failed read";
  Refresh();
  EXPECT_TRUE(repo_.reads.back().has_value()) << "incremental again";

  // The same when an earlier step of the refresh fails (the caps version, here).
  repo_.fail_next_caps_version = true;
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(coordinator_.Refresh().ok());
  Refresh();
  EXPECT_FALSE(repo_.reads.back().has_value());
}

// Writers count every key, watched or not; a cap added for a key that has spend already reads
// that key's counters (one series) right away, without a full read or a recount.
TEST_F(CoordinatorCounterReadTest, PutCapReadsTheNewKeysStoredSpendAndNothingElse) {
  ASSERT_TRUE(coordinator_.Start().ok());
  const CounterKey tenant_key = Key(Scope::kTenant, "acme");
  repo_.Add("other/w0", tenant_key, 30 * kUsd);  // spend counted before any cap watched it
  CommitLocally(4 * kUsd, "s1");
  repo_.Add("me/w0", tenant_key, 4 * kUsd);  // this replica's writer counts the tenant too
  Refresh();
  EXPECT_EQ(engine_.Stats().counters, 6u) << "team, feature and org (2 periods each), no tenant";

  const size_t reads_before = repo_.reads.size();
  absl::StatusOr<Cap> put =
      coordinator_.PutCap(MakeCap("tenant", Scope::kTenant, 50 * kUsd), "lead@example.com");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(repo_.reads.size(), reads_before) << "no read of the other counters";
  const std::vector<std::vector<CounterSeries>> expected = {{SeriesOf(*put)}};
  EXPECT_EQ(repo_.series_reads, expected) << "one read: the new cap's series";
  EXPECT_EQ(Spent("tenant"), 34 * kUsd) << "every replica's spend on the key, before the cap";

  // From now on this replica counts the tenant itself, once.
  repo_.Add("me/w0", tenant_key, kUsd);
  ASSERT_TRUE(engine_.RecordSpend(ProdTags(), kUsd, clock_.Now(), "s2").ok());
  EXPECT_EQ(Spent("tenant"), 35 * kUsd);
  Refresh();
  EXPECT_EQ(Spent("tenant"), 35 * kUsd);
  Refresh();
  EXPECT_EQ(Spent("tenant"), 35 * kUsd);
}

// A new cap's series is read once, by PutCap; if that read fails, the next refresh reads every
// counter, since an incremental read would never return the series' older rows.
TEST_F(CoordinatorCounterReadTest, AFailedReadOfANewCapsSeriesMakesTheNextReadFull) {
  ASSERT_TRUE(coordinator_.Start().ok());
  Refresh();
  repo_.Add("other/w0", Key(Scope::kTenant, "acme"), 30 * kUsd);
  Refresh();
  repo_.fail_next_series_read = true;
  ASSERT_TRUE(
      coordinator_.PutCap(MakeCap("tenant", Scope::kTenant, 50 * kUsd), "lead@example.com").ok())
      << "the cap is stored and enforced; its spend comes with the next refresh";
  EXPECT_EQ(Spent("tenant"), 0);
  Refresh();
  EXPECT_FALSE(repo_.reads.back().has_value()) << "in full";
  EXPECT_EQ(Spent("tenant"), 30 * kUsd);
}

// Counters of closed periods leave the engine within a day of their end, and storage is asked
// to drop the rows no replica reads any more, once an hour.
TEST_F(CoordinatorCounterReadTest, ClosedPeriodsArePrunedInTheEngineAndInStorage) {
  ASSERT_TRUE(coordinator_.Start().ok());
  CommitLocally(5 * kUsd, "s1");
  const size_t today = engine_.Stats().counters;
  ASSERT_EQ(repo_.prunes.size(), 1u) << "the first refresh prunes";
  EXPECT_EQ(repo_.prunes[0].first, testing::Utc(2026, 11, 27)) << "daily rows before yesterday";
  EXPECT_EQ(repo_.prunes[0].second, testing::Utc(2026, 11, 1)) << "monthly rows before this month";
  Refresh();
  EXPECT_EQ(repo_.prunes.size(), 1u) << "not again within the hour";

  clock_.Advance(absl::Hours(36));  // the day of the spend ended 24 h + 1 s ago
  Refresh();
  EXPECT_EQ(engine_.Stats().counters, today - 3) << "the three daily counters of that day";
  EXPECT_EQ(repo_.prunes.size(), 2u);
}

}  // namespace
}  // namespace stepledger::domain::budget
