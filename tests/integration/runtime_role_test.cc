// Integration: the collector's runtime role (issue 17 item 5, docs/OPERATING.md "Database
// roles"). The migrations run as the owner (the test cluster's superuser); a login role that
// holds only stepledger_app (migration 0022) writes the ledger, a new day's partition
// included (through the SECURITY DEFINER function), and is refused every DDL statement.
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/storage/migrator.h"
#include "server/storage/partitions.h"
#include "server/storage/pg_ledger_store.h"
#include "server/storage/run_upkeep.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger::storage {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using testing::TestDatabase;

// `url` with its user replaced: postgresql://USER@host... -> postgresql://<user>@host...
std::string AsUser(const std::string& url, const std::string& user) {
  const size_t start = url.find("://") + 3;
  const size_t at = url.find('@', start);
  return url.substr(0, start) + user + url.substr(at);
}

domain::ingest::IngestItem Item(const std::string& id, absl::Time started) {
  domain::ingest::IngestItem item;
  item.step.event_id = id;
  item.step.tags = {"inbox-triage",
                    "mail-ai",
                    domain::WorkloadClass::kInteractive,
                    "acme",
                    domain::Environment::kProduction,
                    "run-" + id};
  item.step.step_id = "root";
  item.step.kind = domain::StepKind::kModelCall;
  item.step.model = "gpt-4o";
  item.step.cost_nano_usd = 1000;
  item.step.started_at = started;
  item.charged = item.step.tags;
  item.cost_nano_usd = 1000;
  item.cost_source = domain::ingest::CostSource::kReported;
  item.digest = "digest-" + id;
  item.received_at = absl::Now();
  return item;
}

class RuntimeRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(ApplyMigrations(db_.url()).ok());
    // A login role of this test only (roles are per cluster, databases per test).
    role_ = "runtime_" + db_.name();
    db_.Exec("CREATE ROLE " + role_ + " LOGIN");
    db_.Exec("GRANT stepledger_app TO " + role_);
    runtime_url_ = AsUser(db_.url(), role_);
  }
  void TearDown() override {
    if (!role_.empty()) db_.Exec("DROP ROLE IF EXISTS " + role_);
  }

  // What running `sql` as the runtime role answered: "ok", or the error's message.
  std::string Run(const std::string& sql) {
    try {
      pqxx::connection conn(runtime_url_);
      pqxx::nontransaction txn(conn);
      txn.exec(sql);
      return "ok";
    } catch (const std::exception& e) {
      return e.what();
    }
  }

  TestDatabase db_;
  std::string role_;
  std::string runtime_url_;
};

TEST_F(RuntimeRoleTest, TheRuntimeRoleIngestsIntoANewDaysPartitionAndIsRefusedDdl) {
  {
    pqxx::connection conn(runtime_url_);
    pqxx::nontransaction txn(conn);
    ASSERT_EQ(txn.exec1("SELECT current_user")[0].as<std::string>(), role_) << runtime_url_;
  }
  // Refused: "permission denied for ..." or "must be owner of ..." (insufficient_privilege).
  const auto refused = AnyOf(HasSubstr("permission denied"), HasSubstr("must be owner"));
  for (const char* ddl : {"CREATE TABLE intruder (a integer)", "DROP TABLE budgets",
                          "ALTER TABLE budgets ADD COLUMN intruder integer",
                          "CREATE INDEX intruder ON budgets (owner)", "TRUNCATE cost_corrections",
                          "CREATE SCHEMA intruder",
                          "ALTER FUNCTION ensure_ledger_partitions(date[]) RENAME TO intruder"}) {
    EXPECT_THAT(Run(ddl), refused) << ddl;
  }
  EXPECT_EQ(db_.Count("SELECT count(*) FROM pg_tables WHERE tablename = 'budgets'"), 1);
  // What it needs at run time: DML, the sequences of bigserial keys, the health probe.
  EXPECT_EQ(
      Run("INSERT INTO admin_audit (action, actor, detail) VALUES ('reprice', 'key:t/1', '{}')"),
      "ok");
  EXPECT_EQ(Run("SELECT count(*) FROM schema_migrations"), "ok");

  // Ingest on a day without a partition: the write path creates it through the function, and
  // the partition belongs to the owner, not to the runtime role.
  const absl::Time old = absl::Now() - absl::Hours(24 * 9);
  const std::string partition = PartitionName(absl::ToCivilDay(old, absl::UTCTimeZone()));
  ASSERT_EQ(db_.Count("SELECT count(*) FROM pg_class WHERE relname = '" + partition + "'"), 0);
  PgLedgerStore store(PgLedgerStore::Options{.database_url = runtime_url_});
  const domain::ingest::IngestItem items[] = {Item("a", old), Item("b", absl::Now())};
  absl::StatusOr<std::vector<domain::ingest::Outcome>> stored =
      store.Commit({&items[0], &items[1]});
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(db_.Count("SELECT count(*) FROM steps"), 2);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM " + partition), 1);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM pg_tables WHERE tablename = '" + partition +
                      "' AND tableowner = current_user"),
            1);
  // The upkeep's run gauges: the orphan recount writes runs and run_orphan_mark (0024).
  absl::StatusOr<OpenRunStats> gauges = ReadOpenRunStats(runtime_url_, absl::Hours(24));
  ASSERT_TRUE(gauges.ok()) << gauges.status();
  EXPECT_TRUE(gauges->orphans_recounted);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM run_orphan_mark WHERE counted_in IS NOT NULL"), 1);
  // Start-up's partitions too.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  ASSERT_TRUE(EnsurePartitionsAround(runtime_url_, today, 3).ok());
  EXPECT_EQ(
      db_.Count("SELECT count(*) FROM pg_class WHERE relname = '" + PartitionName(today + 3) + "'"),
      1);
}

}  // namespace
}  // namespace stepledger::storage
