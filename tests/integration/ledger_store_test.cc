// Integration: migrations and the write path against a real PostgreSQL.
#include <thread>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/storage/migrator.h"
#include "server/storage/partitions.h"
#include "server/storage/pg_ledger_store.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger::storage {
namespace {

using domain::ingest::IngestItem;
using domain::ingest::Outcome;
using testing::TestDatabase;

IngestItem Item(const std::string& id, absl::Time started, const std::string& digest,
                domain::NanoUsd cost = 1000) {
  IngestItem item;
  item.step.event_id = id;
  item.step.tags = {"inbox-triage",
                    "mail-ai",
                    domain::WorkloadClass::kInteractive,
                    "acme",
                    domain::Environment::kProduction,
                    "run-1"};
  item.step.step_id = "step-" + id;
  item.step.kind = domain::StepKind::kModelCall;
  item.step.model = "gpt-4o";
  item.step.usage.input_uncached_tokens = 10;
  item.step.cost_nano_usd = cost;
  item.step.started_at = started;
  item.step.attributes = {{"tab\tkey", "quote\"back\\slash\nnewline"}};
  item.charged = item.step.tags;
  item.cost_nano_usd = cost;
  item.cost_source = domain::ingest::CostSource::kReported;
  item.digest = digest;
  item.received_at = absl::Now();
  return item;
}

std::vector<const IngestItem*> Ptrs(const std::vector<IngestItem>& items) {
  std::vector<const IngestItem*> out;
  for (const auto& i : items) out.push_back(&i);
  return out;
}

class LedgerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    auto report = ApplyMigrations(db_.url());
    ASSERT_TRUE(report.ok()) << report.status();
    store_ = std::make_unique<PgLedgerStore>(PgLedgerStore::Options{.database_url = db_.url()});
  }

  std::vector<Outcome> Commit(const std::vector<IngestItem>& items) {
    auto r = store_->Commit(Ptrs(items));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<Outcome>{};
  }

  TestDatabase db_;
  std::unique_ptr<PgLedgerStore> store_;
  const absl::Time now_ = absl::Now();
};

TEST(MigrationTest, ApplyingTwiceIsANoOp) {
  TestDatabase db;
  auto first = ApplyMigrations(db.url());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->applied.empty());
  auto second = ApplyMigrations(db.url());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->already_applied, static_cast<int>(first->applied.size()));
  EXPECT_EQ(db.Count("SELECT count(*) FROM schema_migrations"),
            static_cast<int64_t>(first->applied.size()));
}

TEST(MigrationTest, TwoMigratorsAtOnceApplyEachMigrationOnce) {
  TestDatabase db;
  absl::StatusOr<MigrationReport> a, b;
  std::thread ta([&] { a = ApplyMigrations(db.url()); });
  std::thread tb([&] { b = ApplyMigrations(db.url()); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  const size_t total = EmbeddedMigrations().size();
  EXPECT_EQ(a->applied.size() + b->applied.size(), total);
  EXPECT_EQ(db.Count("SELECT count(*) FROM schema_migrations"), static_cast<int64_t>(total));
}

TEST(MigrationTest, EditedMigrationIsRefused) {
  TestDatabase db;
  ASSERT_TRUE(ApplyMigrations(db.url()).ok());
  std::vector<Migration> edited = EmbeddedMigrations();
  edited[0].sql += "\n-- edited";
  auto r = ApplyMigrations(db.url(), edited);
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
}

TEST_F(LedgerStoreTest, DuplicatesInsideABatchAreStoredOnce) {
  std::vector<IngestItem> items = {Item("a", now_, "d1"), Item("a", now_, "d1"),
                                   Item("b", now_, "d2")};
  EXPECT_EQ(Commit(items),
            (std::vector<Outcome>{Outcome::kAccepted, Outcome::kDuplicate, Outcome::kAccepted}));
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps"), 2);
}

TEST_F(LedgerStoreTest, DuplicatesAcrossBatchesAreStoredOnce) {
  Commit({Item("a", now_, "d1")});
  EXPECT_EQ(Commit({Item("a", now_, "d1"), Item("c", now_, "d3")}),
            (std::vector<Outcome>{Outcome::kDuplicate, Outcome::kAccepted}));
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps"), 2);
}

TEST_F(LedgerStoreTest, SameIdInAnotherPartitionIsStillADuplicate) {
  // Same event id and digest, but placed on a different day: idempotency must hold across
  // partitions, which a per-partition unique index would not give.
  Commit({Item("a", now_, "d1")});
  auto out = Commit({Item("a", now_ - absl::Hours(72), "d1")});
  EXPECT_EQ(out, std::vector<Outcome>{Outcome::kDuplicate});
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps"), 1);
}

TEST_F(LedgerStoreTest, SameIdOtherContentIsAConflictAndTheStoredRowStays) {
  Commit({Item("a", now_, "d1", 1000)});
  auto out = Commit({Item("a", now_, "d-changed", 999999)});
  EXPECT_EQ(out, std::vector<Outcome>{Outcome::kConflict});
  EXPECT_EQ(db_.Count("SELECT cost_nano_usd FROM steps WHERE event_id = 'a'"), 1000);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM quarantine WHERE event_id = 'a' AND reason LIKE "
                      "'conflict%'"),
            1);
}

TEST_F(LedgerStoreTest, RejectedEventsAreQuarantinedWithReasonOnce) {
  IngestItem bad = Item("bad", now_, "dq", 5000);
  bad.rejection = domain::ingest::FieldError{"tags.team", "missing: required in production"};
  bad.raw_json = R"({"eventId":"bad"})";
  EXPECT_EQ(Commit({bad}), std::vector<Outcome>{Outcome::kQuarantined});
  EXPECT_EQ(Commit({bad}), std::vector<Outcome>{Outcome::kQuarantinedAgain});  // re-sent
  EXPECT_EQ(db_.Count("SELECT count(*) FROM quarantine"), 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM quarantine WHERE field = 'tags.team' AND "
                      "cost_nano_usd = 5000 AND event->>'eventId' = 'bad'"),
            1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps"), 0);
}

TEST_F(LedgerStoreTest, RowKeepsEveryFieldAndEscapesText) {
  Commit({Item("a", now_, "d1")});
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps WHERE attributes->>'tab\tkey' = "
                      "E'quote\"back\\\\slash\\nnewline' AND feature = 'inbox-triage' AND "
                      "attribution_status = 'complete' AND cost_source = 'reported' AND "
                      "input_uncached_tokens = 10 AND output_tokens IS NULL AND "
                      "length(digest) = 2"),
            1);
}

TEST_F(LedgerStoreTest, LateEventsGetTheirPartitionCreated) {
  const absl::Time old = now_ - absl::Hours(24 * 40);
  Commit({Item("late", old, "dl")});
  const std::string name = PartitionName(absl::ToCivilDay(old, absl::UTCTimeZone()));
  EXPECT_EQ(db_.Count("SELECT count(*) FROM pg_class WHERE relname = '" + name + "'"), 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM " + name), 1);
}

TEST_F(LedgerStoreTest, PartitionsForYesterdayTodayAndTomorrowExist) {
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  ASSERT_TRUE(EnsurePartitionsAround(db_.url(), today, 3).ok());
  for (absl::CivilDay d : {today - 1, today, today + 1}) {
    EXPECT_EQ(db_.Count("SELECT count(*) FROM pg_class WHERE relname = '" + PartitionName(d) + "'"),
              1)
        << PartitionName(d);
  }
}

TEST_F(LedgerStoreTest, ConcurrentWritersWithOverlappingIdsStoreEachOnce) {
  auto second = std::make_unique<PgLedgerStore>(PgLedgerStore::Options{.database_url = db_.url()});
  std::vector<IngestItem> a, b;
  for (int i = 0; i < 500; ++i) {
    a.push_back(Item("e" + std::to_string(i), now_, "d" + std::to_string(i)));
    b.push_back(Item("e" + std::to_string(499 - i), now_, "d" + std::to_string(499 - i)));
  }
  absl::StatusOr<std::vector<Outcome>> ra, rb;
  std::thread ta([&] { ra = store_->Commit(Ptrs(a)); });
  std::thread tb([&] { rb = second->Commit(Ptrs(b)); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra.ok()) << ra.status();
  ASSERT_TRUE(rb.ok()) << rb.status();
  int accepted = 0, duplicates = 0;
  for (auto* r : {&*ra, &*rb}) {
    for (Outcome o : *r) {
      accepted += o == Outcome::kAccepted;
      duplicates += o == Outcome::kDuplicate;
    }
  }
  EXPECT_EQ(accepted, 500);
  EXPECT_EQ(duplicates, 500);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps"), 500);
}

TEST(LedgerStoreUnavailableTest, UnreachableDatabaseIsUnavailable) {
  PgLedgerStore store({.database_url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"});
  IngestItem item = Item("x", absl::Now(), "d");
  const IngestItem* p = &item;
  auto r = store.Commit(absl::MakeSpan(&p, 1));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
}

}  // namespace
}  // namespace stepledger::storage
