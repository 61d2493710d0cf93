// Integration: the daily rollup and the showback report over a generated month of ledger rows
// in a real PostgreSQL. Totals are computed independently by the test from what it inserted.
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "server/domain/reports/showback.h"
#include "server/render/render.h"
#include "server/storage/migrator.h"
#include "server/storage/partitions.h"
#include "server/storage/rollup_store.h"
#include "server/storage/showback_source.h"
#include "tests/fakes/focus_checker.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using domain::reports::BuildShowback;
using render::RenderFocusCsv;
using storage::RollupJob;
using testing::TestDatabase;

const absl::CivilDay kFirst(2025, 1, 1);
const absl::CivilDay kLast(2025, 1, 31);

std::string DateText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

struct GenStep {
  absl::CivilDay day;
  std::string team, feature, tenant, kind, model, status, tool_owner;
  std::optional<int64_t> cost;
  int attempt = 1;
  bool drift = false;
  int64_t output_tokens = 0;
  std::string run;
};

// What the test expects per day, summed from the generated steps.
struct DayTotals {
  int64_t steps = 0, unpriced = 0, cost = 0, retry_steps = 0, retry_cost = 0, drift = 0;
  int64_t output_tokens = 0, for_others_steps = 0, for_others_cost = 0;
};

constexpr char kInsertStep[] = R"sql(
  INSERT INTO steps (event_id, occurred_at, received_at, digest, feature, team, workload_class,
    tenant, environment, parent_run_id, charged_feature, charged_team, charged_workload_class,
    charged_tenant, attribution_status, step_id, kind, provider, model, output_tokens,
    cost_nano_usd, cost_source, tool_owner_team, attempt, tag_drift)
  VALUES ($1, $2::timestamptz, coalesce($3::timestamptz, now()), '\x00', $4, $5, 'interactive',
    $6, 'production', $7, $4, $5, 'interactive', $6, $8, $1, $9, 'openai', $10, $11, $12,
    CASE WHEN $12::bigint IS NULL THEN 'unpriced' ELSE 'computed' END, $13, $14, $15)
)sql";

class RollupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
    pqxx::connection conn(db_.url());
    std::vector<absl::CivilDay> days;
    for (absl::CivilDay d = kFirst; d <= kLast; ++d) days.push_back(d);
    ASSERT_TRUE(storage::EnsureDailyPartitions(conn, days).ok());
  }

  // Deterministic but varied: teams, features, tenants, kinds, unpriced steps, retries, drift,
  // unattributed statuses and tools owned by another team.
  void GenerateMonth() {
    const std::vector<std::string> teams = {"mail", "search", "ops"};
    const std::vector<std::string> features = {"triage", "rank", "summarize", "misc"};
    uint64_t x = 42;
    auto next = [&x](uint64_t mod) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      return (x >> 33) % mod;
    };
    int n = 0;
    pqxx::connection conn(db_.url());
    pqxx::work txn(conn);
    for (absl::CivilDay d = kFirst; d <= kLast; ++d) {
      const int count = 20 + static_cast<int>(next(20));
      for (int i = 0; i < count; ++i) {
        GenStep s;
        s.day = d;
        s.team = teams[next(teams.size())];
        s.feature = features[next(features.size())];
        s.tenant = absl::StrCat("tenant-", next(7));
        s.kind = next(3) == 0 ? "tool_call" : "model_call";
        s.model = s.kind == "model_call" ? (next(2) ? "gpt-x" : "claude-y") : "";
        const uint64_t st = next(20);
        s.status = st == 0   ? "defaulted"
                   : st == 1 ? "quarantined"
                   : st == 2 ? "pending"
                             : "complete";
        if (next(10) != 0) s.cost = static_cast<int64_t>(next(5'000'000) + 1);
        s.attempt = next(8) == 0 ? 2 : 1;
        s.drift = next(15) == 0;
        s.output_tokens = s.kind == "model_call" ? static_cast<int64_t>(next(900)) : 0;
        s.tool_owner = s.kind == "tool_call" ? teams[next(teams.size())] : "";
        s.run = absl::StrCat("run-", DateText(d), "-", i / 4);
        Insert(txn, s, absl::StrCat("e", n++));
      }
    }
    txn.commit();
  }

  // Received now (the database's clock), like a step arriving at this moment.
  void Insert(pqxx::work& txn, const GenStep& s, const std::string& event_id) {
    txn.exec_params(kInsertStep, event_id, DateText(s.day) + " 12:00:00+00",
                    std::optional<std::string>(), s.feature, s.team, s.tenant, s.run, s.status,
                    s.kind, s.model, s.output_tokens, s.cost, s.tool_owner, s.attempt, s.drift);
    DayTotals& t = totals_[s.day];
    ++t.steps;
    if (!s.cost) ++t.unpriced;
    t.cost += s.cost.value_or(0);
    if (s.attempt > 1) {
      ++t.retry_steps;
      t.retry_cost += s.cost.value_or(0);
    }
    t.drift += s.drift ? 1 : 0;
    t.output_tokens += s.output_tokens;
    if (!s.tool_owner.empty() && s.tool_owner != s.team) {
      ++t.for_others_steps;
      t.for_others_cost += s.cost.value_or(0);
    }
    team_month_[s.team] += s.cost.value_or(0);
  }

  DayTotals RolledUp(absl::CivilDay d) {
    pqxx::connection conn(db_.url());
    pqxx::nontransaction txn(conn);
    pqxx::row r = txn.exec_params1(
        "SELECT coalesce(sum(steps),0)::bigint, coalesce(sum(unpriced_steps),0)::bigint, "
        "coalesce(sum(cost_nano_usd),0)::bigint, coalesce(sum(retry_steps),0)::bigint, "
        "coalesce(sum(retry_cost_nano_usd),0)::bigint, coalesce(sum(drift_steps),0)::bigint, "
        "coalesce(sum(output_tokens),0)::bigint FROM rollup_daily WHERE day = $1::date",
        DateText(d));
    pqxx::row o = txn.exec_params1(
        "SELECT coalesce(sum(steps),0)::bigint, coalesce(sum(cost_nano_usd),0)::bigint "
        "FROM rollup_tool_owner_daily WHERE day = $1::date",
        DateText(d));
    return DayTotals{r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<int64_t>(),
                     r[3].as<int64_t>(), r[4].as<int64_t>(), r[5].as<int64_t>(),
                     r[6].as<int64_t>(), o[0].as<int64_t>(), o[1].as<int64_t>()};
  }

  // The day's rollup rows as text, to compare before and after a re-run.
  std::string DaySnapshot(absl::CivilDay d) {
    pqxx::connection conn(db_.url());
    pqxx::nontransaction txn(conn);
    std::string out;
    for (const char* table :
         {"rollup_daily", "rollup_tool_owner_daily", "rollup_quarantine_daily"}) {
      for (const auto& row : txn.exec_params(
               absl::StrCat("SELECT t::text FROM ", table, " t WHERE day = $1::date ORDER BY 1"),
               DateText(d))) {
        absl::StrAppend(&out, row[0].c_str(), "\n");
      }
    }
    return out;
  }

  TestDatabase db_;
  std::map<absl::CivilDay, DayTotals> totals_;
  std::map<std::string, int64_t> team_month_;
};

void ExpectSame(const DayTotals& want, const DayTotals& got, absl::CivilDay d) {
  EXPECT_EQ(got.steps, want.steps) << d;
  EXPECT_EQ(got.unpriced, want.unpriced) << d;
  EXPECT_EQ(got.cost, want.cost) << d;
  EXPECT_EQ(got.retry_steps, want.retry_steps) << d;
  EXPECT_EQ(got.retry_cost, want.retry_cost) << d;
  EXPECT_EQ(got.drift, want.drift) << d;
  EXPECT_EQ(got.output_tokens, want.output_tokens) << d;
  EXPECT_EQ(got.for_others_steps, want.for_others_steps) << d;
  EXPECT_EQ(got.for_others_cost, want.for_others_cost) << d;
}

TEST_F(RollupTest, RollupsOfAMonthEqualTheSumsOfTheLedger) {
  GenerateMonth();
  absl::StatusOr<storage::RollupRunResult> run =
      RollupJob({.database_url = db_.url()}).Run(kFirst, kLast);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE(run->ran);
  ASSERT_EQ(run->days.size(), 31u);
  for (const auto& day : run->days) {
    EXPECT_TRUE(day.first_roll);
    EXPECT_EQ(day.source_rows, totals_[day.day].steps);
    EXPECT_EQ(day.total_cost_nano_usd, totals_[day.day].cost);
    EXPECT_EQ(day.correction_cost_nano_usd, 0);
  }
  for (absl::CivilDay d = kFirst; d <= kLast; ++d) ExpectSame(totals_[d], RolledUp(d), d);

  // The report's team lines are the same sums over the month.
  absl::StatusOr<domain::reports::ShowbackInputs> in =
      storage::LoadShowbackInputs(db_.url(), kFirst, kLast, "");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->through, kLast);
  const domain::reports::ShowbackReport report = BuildShowback(*in, absl::Now());
  ASSERT_EQ(report.teams.size(), team_month_.size());
  for (const auto& line : report.teams) EXPECT_EQ(line.spend_nano_usd, team_month_[line.key]);
  int64_t month = 0;
  for (const auto& [d, t] : totals_) month += t.cost;
  EXPECT_EQ(report.spend_nano_usd, month);
  EXPECT_GT(report.data_quality.unattributed_spend_nano_usd, 0);
  EXPECT_GT(report.data_quality.pending_steps, 0);
}

TEST_F(RollupTest, RerunningADayChangesNothing) {
  GenerateMonth();
  const absl::CivilDay d(2025, 1, 15);
  RollupJob job({.database_url = db_.url()});
  ASSERT_TRUE(job.Run(d, d).ok());
  const std::string before = DaySnapshot(d);
  ASSERT_FALSE(before.empty());
  absl::StatusOr<storage::RollupRunResult> again = job.Run(d, d);
  ASSERT_TRUE(again.ok() && again->ran);
  EXPECT_FALSE(again->days[0].first_roll);
  EXPECT_EQ(DaySnapshot(d), before);
  EXPECT_EQ(db_.Count("SELECT roll_count FROM rollup_days WHERE day = '2025-01-15'"), 2);
}

TEST_F(RollupTest, LateEventBecomesACorrectionRowAndMovesTheDayByItsCost) {
  GenerateMonth();
  const absl::CivilDay d(2025, 1, 10);
  RollupJob job({.database_url = db_.url()});
  ASSERT_TRUE(job.Run(d, d).ok());
  const DayTotals before = RolledUp(d);

  GenStep late;
  late.day = d;
  late.team = "search";
  late.feature = "late-feature";
  late.tenant = "tenant-late";
  late.kind = "model_call";
  late.model = "gpt-x";
  late.status = "complete";
  late.cost = 123'456'789;
  late.run = "run-late";
  // Received now: after the day was first rolled up.
  {
    pqxx::connection conn(db_.url());
    pqxx::work txn(conn);
    Insert(txn, late, "late-1");
    txn.commit();
  }

  // Until the day is re-run, what was reported stands.
  EXPECT_EQ(RolledUp(d).cost, before.cost);
  absl::StatusOr<storage::RollupRunResult> rerun = job.Run(d, d);
  ASSERT_TRUE(rerun.ok() && rerun->ran);
  EXPECT_EQ(rerun->days[0].correction_cost_nano_usd, *late.cost);
  const DayTotals after = RolledUp(d);
  EXPECT_EQ(after.cost - before.cost, *late.cost);
  EXPECT_EQ(after.steps - before.steps, 1);

  absl::StatusOr<domain::reports::ShowbackInputs> in =
      storage::LoadShowbackInputs(db_.url(), d, d, "");
  ASSERT_TRUE(in.ok()) << in.status();
  // In FOCUS the late step is restated within the open billing period (no invoice imported):
  // ChargeClass stays null and x_Restated says so.
  const testing::CsvTable focus =
      testing::ReadCsvTable(RenderFocusCsv(BuildShowback(*in, absl::Now())));
  std::vector<std::map<std::string, std::string>> restated;
  for (const auto& row : focus.rows) {
    EXPECT_EQ(row.at("ChargeClass"), "");
    if (row.at("x_Restated") == "true") restated.push_back(row);
  }
  ASSERT_EQ(restated.size(), 1u);
  EXPECT_EQ(restated[0].at("BilledCost"), "0.123456789");
  EXPECT_EQ(restated[0].at("ChargePeriodStart"), "2025-01-10T00:00:00Z");
  EXPECT_EQ(restated[0].at("ChargePeriodEnd"), "2025-01-11T00:00:00Z");
  EXPECT_EQ(restated[0].at("x_Feature"), "late-feature");
  // Everything else of the day is still an ordinary usage row.
  EXPECT_EQ(BuildShowback(*in, absl::Now()).data_quality.correction_spend_nano_usd, *late.cost);
}

TEST_F(RollupTest, AdvisoryLockLetsOnlyOneOfTwoConcurrentRollupsRun) {
  GenerateMonth();
  absl::Notification a_locked, b_done;
  RollupJob a({.database_url = db_.url(), .on_locked = [&] {
                 a_locked.Notify();
                 b_done.WaitForNotification();  // hold the lock while B tries
               }});
  absl::StatusOr<storage::RollupRunResult> a_result;
  std::thread ta([&] { a_result = a.Run(kFirst, kLast); });
  a_locked.WaitForNotification();
  absl::StatusOr<storage::RollupRunResult> b_result =
      RollupJob({.database_url = db_.url()}).Run(kFirst, kLast);
  b_done.Notify();
  ta.join();
  ASSERT_TRUE(a_result.ok()) << a_result.status();
  ASSERT_TRUE(b_result.ok()) << b_result.status();
  EXPECT_TRUE(a_result->ran);
  EXPECT_FALSE(b_result->ran);
  EXPECT_TRUE(b_result->days.empty());
  EXPECT_EQ(db_.Count("SELECT max(roll_count) FROM rollup_days"), 1);
  // Once A is done the lock is free again.
  absl::StatusOr<storage::RollupRunResult> c =
      RollupJob({.database_url = db_.url()}).Run(kFirst, kFirst);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ran);
}

TEST_F(RollupTest, ImportedInvoiceShowsTheAttributedGap) {
  GenerateMonth();
  ASSERT_TRUE(RollupJob({.database_url = db_.url()}).Run(kFirst, kLast).ok());
  int64_t month = 0;
  for (const auto& [d, t] : totals_) month += t.cost;
  // Invoiced 10% more than attributed: flagged.
  ASSERT_TRUE(storage::ImportInvoices(db_.url(),
                                      {{"openai", absl::CivilMonth(2025, 1), month + month / 10}},
                                      "test", {"key:rollup-test/0001", ""})
                  .ok());
  absl::StatusOr<domain::reports::ShowbackInputs> in =
      storage::LoadShowbackInputs(db_.url(), kFirst, kLast, "");
  ASSERT_TRUE(in.ok()) << in.status();
  const auto report = BuildShowback(*in, absl::Now());
  ASSERT_EQ(report.invoices.size(), 1u);
  EXPECT_EQ(report.invoices[0].attributed_nano_usd, month);
  EXPECT_TRUE(report.invoices[0].flagged);
  // Re-importing replaces the total: now within 5%.
  ASSERT_TRUE(storage::ImportInvoices(db_.url(),
                                      {{"openai", absl::CivilMonth(2025, 1), month + month / 50}},
                                      "test", {"key:rollup-test/0001", ""})
                  .ok());
  in = storage::LoadShowbackInputs(db_.url(), kFirst, kLast, "");
  ASSERT_TRUE(in.ok());
  EXPECT_FALSE(BuildShowback(*in, absl::Now()).invoices[0].flagged);
}

}  // namespace
}  // namespace stepledger
