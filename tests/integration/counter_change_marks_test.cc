// Integration: the budget refresh's incremental counter read (migrations/0011) against a real
// PostgreSQL. A read given an earlier read's mark must return every counter with a row written
// by a transaction that the earlier read could not see, summed over every writer, and no other
// (unless named).
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/domain/budget/period.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_budget_store.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/write_path.h"

namespace stepledger {
namespace {

using domain::budget::ChangedCounters;
using domain::budget::CounterKey;
using domain::budget::CounterTotalsRead;
using domain::budget::Period;
using domain::budget::Scope;
using testing::TestDatabase;
using testing::WritePath;

domain::budget::Cap MonthlyCap(const std::string& id, Scope scope, const std::string& key) {
  domain::budget::Cap cap;
  cap.id = id;
  cap.scope = scope;
  cap.key = key;
  cap.environment = domain::Environment::kProduction;
  cap.period = Period::kMonthly;
  cap.limit_nano_usd = 1'000'000'000;
  cap.action = domain::budget::Action::kRequireAck;
  cap.alert_threshold_bps = 8000;
  cap.owner = "lead";
  cap.signed_off_by = "finance";
  return cap;
}

CounterKey MonthlyKey(Scope scope, const std::string& key) {
  return {scope, key, domain::Environment::kProduction, Period::kMonthly,
          domain::budget::PeriodStart(Period::kMonthly, absl::Now())};
}

domain::Step StepOf(const std::string& id, const std::string& team, domain::NanoUsd cost) {
  domain::Step s;
  s.event_id = id;
  s.tags = {"inbox-triage",
            team,
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

// The total a read returned for `key`, or nullopt when the read left it out.
std::optional<domain::NanoUsd> TotalOf(const CounterTotalsRead& read, const CounterKey& key) {
  for (const auto& row : read.rows) {
    if (row.key == key) return row.spent;
  }
  return std::nullopt;
}

class CounterChangeMarksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
    store_.emplace(db_.url());
    for (const char* team : {"mail-ai", "search"}) {
      const absl::Status put = store_->PutCap(
          MonthlyCap(std::string("t-") + team, Scope::kTeam, team), "alice", absl::Now());
      ASSERT_TRUE(put.ok()) << put;
    }
  }

  CounterTotalsRead Read(const ChangedCounters* changed) {
    absl::StatusOr<CounterTotalsRead> read = store_->ReadCounterTotals(
        domain::budget::PeriodStart(Period::kMonthly, absl::Now()) - absl::Hours(24 * 31), changed);
    EXPECT_TRUE(read.ok()) << read.status();
    EXPECT_TRUE(read.ok() && read->next_mark.has_value());
    return read.ok() ? *read : CounterTotalsRead{};
  }

  TestDatabase db_;
  std::optional<storage::PgBudgetStore> store_;
  const CounterKey mail_ = MonthlyKey(Scope::kTeam, "mail-ai");
  const CounterKey search_ = MonthlyKey(Scope::kTeam, "search");
};

TEST_F(CounterChangeMarksTest, AnIncrementalReadReturnsOnlyChangedCountersSummedOverEveryWriter) {
  WritePath first(db_.url(), {.counter_owner = "first/w0"});
  WritePath second(db_.url(), {.counter_owner = "second/w0"});
  first.Send({StepOf("a", "mail-ai", 1000), StepOf("b", "search", 400)});
  second.Send({StepOf("c", "mail-ai", 50)});

  const CounterTotalsRead full = Read(nullptr);
  EXPECT_EQ(TotalOf(full, mail_), 1050);
  EXPECT_EQ(TotalOf(full, search_), 400);

  ChangedCounters since_full{.since_mark = *full.next_mark, .keys = {}};
  const CounterTotalsRead idle = Read(&since_full);
  EXPECT_TRUE(idle.rows.empty()) << "nothing was written since the full read";

  // An update of an existing row (the writers' upsert) moves its mark; the total still sums
  // both writers' rows, and the untouched counter stays out of the read.
  first.Send({StepOf("d", "mail-ai", 7)});
  const CounterTotalsRead after_update = Read(&since_full);
  EXPECT_EQ(TotalOf(after_update, mail_), 1057);
  EXPECT_EQ(TotalOf(after_update, search_), std::nullopt);

  // A counter named in `keys` is read whatever its mark.
  ChangedCounters named{.since_mark = *after_update.next_mark, .keys = {search_}};
  const CounterTotalsRead by_name = Read(&named);
  EXPECT_EQ(TotalOf(by_name, search_), 400);
  EXPECT_EQ(TotalOf(by_name, mail_), std::nullopt);
}

TEST_F(CounterChangeMarksTest, ARowWrittenByATransactionOpenDuringAReadIsInTheNextRead) {
  WritePath writer(db_.url(), {.counter_owner = "first/w0"});
  writer.Send({StepOf("a", "mail-ai", 1000)});

  // A writer's transaction updates the row and is still open when the read takes its snapshot.
  pqxx::connection other(db_.url());
  pqxx::work open_txn(other);
  open_txn.exec(
      "UPDATE spend_counters SET spent_nano_usd = spent_nano_usd + 20, "
      "changed_xid = pg_current_xact_id() WHERE key = 'mail-ai' AND owner = 'first/w0'");
  const CounterTotalsRead during = Read(nullptr);
  EXPECT_EQ(TotalOf(during, mail_), 1000) << "the open transaction is not visible yet";
  open_txn.commit();

  ChangedCounters since{.since_mark = *during.next_mark, .keys = {}};
  const CounterTotalsRead next = Read(&since);
  EXPECT_EQ(TotalOf(next, mail_), 1020)
      << "committed after the read's snapshot, which could not see it";
  EXPECT_EQ(TotalOf(next, search_), std::nullopt);
}

// Writers count every key (migration 0013), but a read returns only the series some cap
// watches (and the org's); the series of a cap added since the mark come in full, however old
// their rows' marks.
TEST_F(CounterChangeMarksTest, AReadReturnsWatchedSeriesAndANewSeriesInFull) {
  WritePath writer(db_.url(), {.counter_owner = "first/w0"});
  writer.Send({StepOf("a", "mail-ai", 1000), StepOf("b", "unwatched", 300)});
  const CounterKey unwatched = MonthlyKey(Scope::kTeam, "unwatched");

  const CounterTotalsRead full = Read(nullptr);
  EXPECT_EQ(TotalOf(full, mail_), 1000);
  EXPECT_EQ(TotalOf(full, unwatched), std::nullopt) << "no cap watches it";
  EXPECT_EQ(TotalOf(full, MonthlyKey(Scope::kOrg, "*")), 1300) << "the org is always read";
  EXPECT_EQ(TotalOf(full, MonthlyKey(Scope::kTenant, "acme")), std::nullopt);

  ChangedCounters added{.since_mark = *full.next_mark, .keys = {}};
  added.new_series = {
      {Scope::kTeam, "unwatched", domain::Environment::kProduction, Period::kMonthly}};
  const CounterTotalsRead next = Read(&added);
  EXPECT_EQ(TotalOf(next, unwatched), 300) << "written before the mark, read as a new series";
  EXPECT_EQ(TotalOf(next, mail_), std::nullopt) << "unchanged since the mark";
}

// The incremental read finds changed rows by one pass over the table while it holds at most 10
// rows per cap, and by probing each watched series when it holds more (many unwatched tenants):
// past that point the answers must stay the same.
TEST_F(CounterChangeMarksTest, AReadOfATableOfManyUnwatchedRowsReturnsTheSameCounters) {
  WritePath writer(db_.url(), {.counter_owner = "first/w0"});
  writer.Send({StepOf("a", "mail-ai", 1000), StepOf("b", "search", 400)});
  {
    // 12,000 rows of unwatched tenants (more than 10 x the 1,000 caps the choice assumes at
    // least), counted by ANALYZE as the planner's statistics (pg_class.reltuples).
    pqxx::connection c(db_.url());
    pqxx::work txn(c);
    txn.exec(
        "INSERT INTO spend_counters (owner, scope, key, environment, period, period_start, "
        "spent_nano_usd) SELECT 'first/w0', 'tenant', 'unwatched-' || g, 'production', "
        "'monthly', date_trunc('month', now(), 'UTC'), 5 FROM generate_series(1, 12000) g");
    txn.commit();
    pqxx::nontransaction analyze(c);
    analyze.exec("ANALYZE spend_counters");
    ASSERT_GT(
        analyze.exec1("SELECT reltuples FROM pg_class WHERE oid = 'spend_counters'::regclass")[0]
            .as<double>(),
        10'000.0);
  }
  const CounterTotalsRead full = Read(nullptr);
  EXPECT_EQ(TotalOf(full, mail_), 1000);
  ChangedCounters since{.since_mark = *full.next_mark, .keys = {}};
  EXPECT_TRUE(Read(&since).rows.empty()) << "nothing was written since the full read";

  WritePath second(db_.url(), {.counter_owner = "second/w0"});
  second.Send({StepOf("c", "mail-ai", 50)});
  const CounterTotalsRead next = Read(&since);
  EXPECT_EQ(TotalOf(next, mail_), 1050) << "summed over both writers";
  EXPECT_EQ(TotalOf(next, search_), std::nullopt) << "unchanged since the mark";
  EXPECT_EQ(TotalOf(next, MonthlyKey(Scope::kOrg, "*")), 1450) << "the org is always read";
  EXPECT_EQ(TotalOf(next, MonthlyKey(Scope::kTenant, "acme")), std::nullopt) << "no cap on it";
  EXPECT_EQ(next.rows.size(), 3u) << "the mail-ai and org counters, daily org included";
}

// The same marks for acknowledgements (migrations/0012): insert-only, so a read after a mark
// returns exactly the ones stored since.
TEST_F(CounterChangeMarksTest, AnAcknowledgementReadAfterAMarkReturnsOnlyTheNewOnes) {
  auto ack = [](const std::string& id) {
    return domain::budget::Acknowledgement{.id = id,
                                           .cap_id = "t-mail-ai",
                                           .principal = "lead",
                                           .reason = "launch",
                                           .extra_headroom = 1000,
                                           .created_at = absl::Now(),
                                           .expires_at = absl::Now() + absl::Hours(1)};
  };
  ASSERT_TRUE(store_->InsertAcknowledgement(ack("a1")).ok());
  absl::StatusOr<domain::budget::AcknowledgementsRead> all = store_->LoadAcknowledgements(nullptr);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->acks.size(), 1u);
  ASSERT_TRUE(all->next_mark.has_value());

  absl::StatusOr<domain::budget::AcknowledgementsRead> none =
      store_->LoadAcknowledgements(&*all->next_mark);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->acks.empty());

  ASSERT_TRUE(store_->InsertAcknowledgement(ack("a2")).ok());
  absl::StatusOr<domain::budget::AcknowledgementsRead> fresh =
      store_->LoadAcknowledgements(&*all->next_mark);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_EQ(fresh->acks.size(), 1u);
  EXPECT_EQ(fresh->acks[0].id, "a2");
}

}  // namespace
}  // namespace stepledger
