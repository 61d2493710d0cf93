// Integration: timestamps written by PgTimestamp (bound parameters, COPY rows, the ledger's
// write path) read back from a real PostgreSQL as the same instant, years 1..9999 included.
// PostgreSQL reads an unpadded "1-01-01" as 2001-01-01, so years below 1000 are the edge.
#include "server/storage/pg_time.h"

#include <pqxx/pqxx>
#include <pqxx/tablewriter>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/storage/copy_text.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_ledger_store.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger::storage {
namespace {

using testing::TestDatabase;

absl::Time At(int64_t year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                         absl::UTCTimeZone());
}

// Instants across the valid range, several below the year 1000, each with a fraction.
std::vector<absl::Time> Instants() {
  std::vector<absl::Time> out;
  for (const absl::Time t :
       {At(1, 1, 1), At(1, 12, 31, 23, 59, 59), At(9, 6, 15, 12, 0, 0), At(99, 2, 28, 1, 2, 3),
        At(400, 2, 29, 0, 0, 0), At(999, 12, 31, 23, 59, 59), At(1000, 1, 1), At(1969, 12, 31),
        At(2026, 11, 28, 11, 33, 8), At(9999, 12, 31, 23, 59, 59)}) {
    out.push_back(t + absl::Microseconds(123456));
  }
  return out;
}

// Microseconds since the epoch, as PostgreSQL computes them from a stored timestamptz.
constexpr char kEpochMicros[] = "(extract(epoch FROM {}) * 1000000)::bigint";

std::string EpochMicrosOf(const std::string& expression) {
  std::string sql = kEpochMicros;
  return sql.replace(sql.find("{}"), 2, expression);
}

TEST(PgTimeIntegrationTest, BoundParametersReadBackAsTheSameInstant) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  pqxx::connection conn(db.url());
  pqxx::nontransaction txn(conn);
  for (const absl::Time t : Instants()) {
    const std::string text = PgTimestamp(t);
    const pqxx::row row = txn.exec_params1(
        absl::StrCat("SELECT ", EpochMicrosOf("$1::timestamptz"), ", $2::date::text"), text,
        PgDate(absl::ToCivilDay(t, absl::UTCTimeZone())));
    EXPECT_EQ(row[0].as<int64_t>(), absl::ToUnixMicros(t)) << text;
    EXPECT_EQ(row[1].as<std::string>(), text.substr(0, text.find(' '))) << text;
  }
}

TEST(PgTimeIntegrationTest, CopyRowsReadBackAsTheSameInstant) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  pqxx::connection conn(db.url());
  {
    pqxx::work txn(conn);
    txn.exec("CREATE TABLE t (i int, at timestamptz)");
    // The write path's way of sending raw COPY lines (libpqxx 6.4: only the tablewriter).
    const std::vector<std::string> columns = {"i", "at"};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    pqxx::tablewriter copy(txn, "t", columns.begin(), columns.end());
#pragma GCC diagnostic pop
    CopyRow row;
    int i = 0;
    for (const absl::Time t : Instants()) {
      row.Clear();
      row.Int(i++).Time(t);
      copy.write_raw_line(row.line());
    }
    copy.complete();
    txn.commit();
  }
  pqxx::nontransaction read(conn);
  const pqxx::result rows =
      read.exec(absl::StrCat("SELECT ", EpochMicrosOf("at"), " FROM t ORDER BY i"));
  const std::vector<absl::Time> instants = Instants();
  ASSERT_EQ(rows.size(), instants.size());
  for (size_t i = 0; i < instants.size(); ++i) {
    EXPECT_EQ(rows[i][0].as<int64_t>(), absl::ToUnixMicros(instants[i]))
        << PgTimestamp(instants[i]);
  }
}

// The write path end to end: a step started in the year 7 lands in its own day's partition with
// started_at, ended_at and occurred_at intact, and a rejected one in quarantine likewise.
TEST(PgTimeIntegrationTest, LedgerAndQuarantineKeepYearsBelowOneThousand) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  ASSERT_TRUE(ApplyMigrations(db.url()).ok());
  PgLedgerStore store(PgLedgerStore::Options{.database_url = db.url()});

  const absl::Time started = At(7, 3, 4, 5, 6, 7) + absl::Microseconds(890123);
  std::vector<domain::ingest::IngestItem> items(2);
  for (size_t i = 0; i < items.size(); ++i) {
    domain::ingest::IngestItem& item = items[i];
    item.step.event_id = absl::StrCat("ancient-", i);
    item.step.tags = {"inbox-triage",
                      "mail-ai",
                      domain::WorkloadClass::kInteractive,
                      "acme",
                      domain::Environment::kProduction,
                      "run-ancient"};
    item.step.step_id = absl::StrCat("step-", i);
    item.step.kind = domain::StepKind::kModelCall;
    item.step.cost_nano_usd = 1000;
    item.step.started_at = started;
    item.step.ended_at = started + absl::Seconds(1);
    item.charged = item.step.tags;
    item.cost_nano_usd = 1000;
    item.cost_source = domain::ingest::CostSource::kReported;
    item.digest = absl::StrCat("digest-", i);
    item.received_at = absl::Now();
  }
  items[1].rejection = domain::ingest::FieldError{"tags.team", "test rejection"};
  std::vector<const domain::ingest::IngestItem*> ptrs = {&items[0], &items[1]};
  auto outcomes = store.Commit(ptrs);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();

  const int64_t micros = absl::ToUnixMicros(started);
  EXPECT_EQ(db.Count("SELECT " + EpochMicrosOf("occurred_at") + " FROM steps"), micros);
  EXPECT_EQ(db.Count("SELECT " + EpochMicrosOf("started_at") + " FROM steps"), micros);
  EXPECT_EQ(db.Count("SELECT " + EpochMicrosOf("ended_at") + " FROM steps"), micros + 1'000'000);
  EXPECT_EQ(db.Count("SELECT count(*) FROM steps_p00070304"), 1);
  EXPECT_EQ(db.Count("SELECT " + EpochMicrosOf("occurred_at") + " FROM quarantine"), micros);
}

}  // namespace
}  // namespace stepledger::storage
