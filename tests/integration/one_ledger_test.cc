// Integration: one ledger, one total. Generated days of steps with reprice corrections,
// quarantined events (with and without a reported cost), late events, unpriced steps and an
// untagged "(unattributed)" tenant, rolled up in a real PostgreSQL, re-rolled after the late
// entries: the ledger sum (computed here, from what the test inserted, and by SQL over the base
// tables) equals the rollup sum, the showback total, the CSV, JSON and FOCUS sums, to the
// nano-USD. Unpriced entries carry no amount anywhere and are listed apart.
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/domain/reports/showback.h"
#include "server/render/render.h"
#include "server/storage/migrator.h"
#include "server/storage/partitions.h"
#include "server/storage/pg_time.h"
#include "server/storage/rollup_store.h"
#include "server/storage/showback_source.h"
#include "tests/fakes/focus_checker.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using storage::PgDate;
using testing::CheckFocus12;
using testing::ParseNanoUsd;
using testing::ReadCsvTable;

const absl::CivilDay kFirst(2025, 3, 1);
const absl::CivilDay kLast(2025, 3, 6);

constexpr char kInsertStep[] = R"sql(
  INSERT INTO steps (event_id, occurred_at, received_at, digest, feature, team, workload_class,
    tenant, environment, parent_run_id, charged_feature, charged_team, charged_workload_class,
    charged_tenant, attribution_status, step_id, kind, provider, model, tool_name, output_tokens,
    tool_units, cost_nano_usd, cost_source, unpriced_reason, attempt)
  VALUES ($1, $2::timestamptz, now(), '\x00', $3, $4, 'interactive', $5, 'production', $6, $3,
    $4, 'interactive', $5, $7, $1, $8, $9, $10, $11, $12, $13, $14,
    CASE WHEN $14::bigint IS NULL THEN 'unpriced' ELSE 'computed' END,
    CASE WHEN $14::bigint IS NULL THEN 'unknown_model' ELSE '' END, $15)
)sql";

constexpr char kInsertQuarantine[] = R"sql(
  INSERT INTO quarantine (event_id, digest, received_at, occurred_at, field, reason, environment,
    parent_run_id, cost_nano_usd, event)
  VALUES ($1, convert_to($1, 'UTF8'), now(), $2::timestamptz, 'tags.team', 'missing team',
    'production', $3, $4, $5::jsonb)
)sql";

constexpr char kInsertCorrection[] = R"sql(
  INSERT INTO cost_corrections (event_id, occurred_at, parent_run_id, environment,
    charged_feature, charged_team, charged_workload_class, charged_tenant, old_cost_nano_usd,
    new_cost_nano_usd, delta_nano_usd, price_version, reason)
  SELECT s.event_id, s.occurred_at, s.parent_run_id, s.environment, s.charged_feature,
         s.charged_team, s.charged_workload_class, s.charged_tenant, s.cost_nano_usd, $2,
         $2 - coalesce(s.cost_nano_usd, 0), 'pv-test',
         CASE WHEN s.cost_nano_usd IS NULL THEN 'unpriced:unknown_model' ELSE 'mispriced' END
  FROM steps s WHERE s.event_id = $1
)sql";

struct Step {
  std::string id;
  absl::CivilDay day;
  std::string team, feature, tenant, status = "complete", kind = "model_call";
  std::string provider = "openai", model = "gpt-4o-2024-08-06", tool;
  std::optional<int64_t> cost;
  int64_t tokens = 0, tool_units = 0;
  int attempt = 1;
};

class OneLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    const auto migrated = storage::ApplyMigrations(db_.url());
    ASSERT_TRUE(migrated.ok()) << migrated.status();
    pqxx::connection conn(db_.url());
    std::vector<absl::CivilDay> days;
    for (absl::CivilDay d = kFirst; d <= kLast; ++d) days.push_back(d);
    ASSERT_TRUE(storage::EnsureDailyPartitions(conn, days).ok());
    pqxx::work txn(conn);
    txn.exec(
        "INSERT INTO price_versions (id, effective_from, loaded_at, model_source, checksum, "
        "model_catalog, model_count, tool_count) VALUES ('pv-test', '2025-01-01', now(), "
        "'test', 'x', '{}', 0, 0)");
    txn.commit();
  }

  void AddStep(pqxx::work& txn, const Step& s) {
    std::optional<int64_t> tool_units;
    if (s.tool_units > 0) tool_units = s.tool_units;
    txn.exec_params(kInsertStep, s.id, PgDate(s.day) + " 10:00:00+00", s.feature, s.team, s.tenant,
                    absl::StrCat("run-", s.id), s.status, s.kind, s.provider, s.model, s.tool,
                    s.tokens, tool_units, s.cost, s.attempt);
    expected_total_ += s.cost.value_or(0);
    if (!s.cost) unpriced_[s.id] = true;
  }

  void AddQuarantine(pqxx::work& txn, const std::string& id, absl::CivilDay day,
                     std::optional<int64_t> cost) {
    const nlohmann::json event = {{"eventId", id},
                                  {"kind", "STEP_KIND_MODEL_CALL"},
                                  {"provider", "anthropic"},
                                  {"model", "claude-sonnet-4-20250514"}};
    txn.exec_params(kInsertQuarantine, id, PgDate(day) + " 11:00:00+00", "run-q", cost,
                    event.dump());
    expected_total_ += cost.value_or(0);
    if (!cost) ++unpriced_quarantine_;
  }

  void Reprice(pqxx::work& txn, const std::string& id, int64_t new_cost, int64_t old_cost) {
    txn.exec_params(kInsertCorrection, id, new_cost);
    expected_total_ += new_cost - old_cost;
    unpriced_.erase(id);
  }

  // Deterministic varied data: three teams, tenants (one far above the others but
  // "(unattributed)"), tools with units, retries, unpriced steps.
  void Generate() {
    uint64_t x = 7;
    auto next = [&x](uint64_t mod) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      return (x >> 33) % mod;
    };
    const std::vector<std::string> teams = {"mail", "search", "ops"};
    pqxx::connection conn(db_.url());
    pqxx::work txn(conn);
    int n = 0;
    for (absl::CivilDay d = kFirst; d <= kLast; ++d) {
      for (int i = 0; i < 25; ++i) {
        Step s;
        s.id = absl::StrCat("s", 1000 + n++);
        s.day = d;
        s.team = teams[next(3)];
        s.feature = absl::StrCat("f", next(4));
        s.tenant = absl::StrCat("tenant-", next(5));
        if (next(6) == 0) {
          s.kind = "tool_call";
          s.provider = "";
          s.model = "";
          s.tool = "web_search";
          s.tool_units = static_cast<int64_t>(1 + next(3));
        } else {
          s.tokens = static_cast<int64_t>(100 + next(5000));
        }
        if (next(8) != 0) s.cost = static_cast<int64_t>(1 + next(9'000'000));
        s.attempt = next(9) == 0 ? 2 : 1;
        AddStep(txn, s);
      }
    }
    // Defaulted steps outside any tenant: large, so a median that counted them would move.
    for (int i = 0; i < 4; ++i) {
      Step s;
      s.id = absl::StrCat("u", 100 + i);
      s.day = kFirst + i;
      s.team = "(unattributed)";
      s.feature = "(unattributed)";
      s.tenant = "(unattributed)";
      s.status = "defaulted";
      s.cost = 900'000'000;
      AddStep(txn, s);
    }
    AddQuarantine(txn, "q1", kFirst, 1'234'567);
    AddQuarantine(txn, "q2", kFirst + 1, std::nullopt);
    // A correction made before the first rollup: its step is priced in the same row.
    Reprice(txn, FirstUnpriced(), 4'000'000, 0);
    txn.commit();
  }

  // The first generated step (ids "s...") that is still unpriced.
  std::string FirstUnpriced() const {
    for (const auto& [id, unused] : unpriced_) {
      if (absl::StartsWith(id, "s")) return id;
    }
    ADD_FAILURE() << "no unpriced generated step";
    return "";
  }

  int64_t LedgerSumBySql() {
    pqxx::connection conn(db_.url());
    pqxx::nontransaction txn(conn);
    const std::string from = PgDate(kFirst) + " 00:00:00+00",
                      to = PgDate(kLast + 1) + " 00:00:00+00";
    return txn
        .exec_params1(
            "SELECT (SELECT coalesce(sum(cost_nano_usd), 0) FROM steps WHERE occurred_at >= $1 "
            "AND occurred_at < $2) + (SELECT coalesce(sum(delta_nano_usd), 0) FROM "
            "cost_corrections WHERE occurred_at >= $1 AND occurred_at < $2) + (SELECT "
            "coalesce(sum(cost_nano_usd), 0) FROM quarantine WHERE occurred_at >= $1 AND "
            "occurred_at < $2)",
            from, to)[0]
        .as<int64_t>();
  }

  int64_t RollupSum() {
    return db_.Count(
        "SELECT (SELECT coalesce(sum(cost_nano_usd), 0) FROM rollup_daily) + "
        "(SELECT coalesce(sum(cost_nano_usd), 0) FROM rollup_quarantine_daily)");
  }

  testing::TestDatabase db_;
  int64_t expected_total_ = 0;
  std::map<std::string, bool> unpriced_;
  int64_t unpriced_quarantine_ = 0;
};

TEST_F(OneLedgerTest, EveryFormatAddsUpToTheLedger) {
  Generate();
  storage::RollupJob job({.database_url = db_.url()});
  ASSERT_TRUE(job.Run(kFirst, kLast).ok());

  // After the first rollup: late steps and a late quarantined event, reprices of an unpriced
  // and of a priced step, then the provider's March invoice and one more late step after it.
  {
    pqxx::connection conn(db_.url());
    pqxx::work txn(conn);
    Step late;
    late.id = "late1";
    late.day = kFirst + 2;
    late.team = "mail";
    late.feature = "f-late";
    late.tenant = "tenant-1";
    late.cost = 77'000'001;
    late.tokens = 1234;
    AddStep(txn, late);
    late.id = "late2";
    late.cost.reset();  // late and unpriced
    AddStep(txn, late);
    AddQuarantine(txn, "q3", kFirst + 3, 5'000'000);
    Reprice(txn, FirstUnpriced(), 6'543'210, 0);
    const pqxx::row priced = txn.exec1(
        "SELECT event_id, cost_nano_usd FROM steps WHERE cost_nano_usd IS NOT NULL AND "
        "event_id LIKE 's%' ORDER BY event_id LIMIT 1");
    Reprice(txn, priced[0].as<std::string>(), priced[1].as<int64_t>() - 333,
            priced[1].as<int64_t>());
    txn.commit();
  }
  // Each in its own transaction, so that now() orders them: the invoice is imported after the
  // late entries above and before the step below, which corrects a closed period.
  ASSERT_EQ(db_.Count("INSERT INTO invoices (provider, period, amount_nano_usd) VALUES "
                      "('openai', '2025-03-01', 1) RETURNING 1"),
            1);
  {
    pqxx::connection conn(db_.url());
    pqxx::work txn(conn);
    Step late;
    late.id = "after-close";
    late.day = kFirst + 4;
    late.team = "mail";
    late.feature = "f-late";
    late.tenant = "tenant-1";
    late.cost = 10'000'000;
    late.tokens = 99;
    AddStep(txn, late);
    txn.commit();
  }
  ASSERT_TRUE(job.Run(kFirst, kLast).ok());

  const int64_t ledger = LedgerSumBySql();
  EXPECT_EQ(ledger, expected_total_);
  EXPECT_EQ(RollupSum(), ledger);

  absl::StatusOr<domain::reports::ShowbackInputs> in =
      storage::LoadShowbackInputs(db_.url(), kFirst, kLast, "");
  ASSERT_TRUE(in.ok()) << in.status();
  const domain::reports::ShowbackReport report = domain::reports::BuildShowback(*in, absl::Now());
  EXPECT_EQ(report.total_spend_nano_usd, ledger);
  int64_t teams = 0;
  for (const auto& l : report.teams) teams += l.spend_nano_usd;
  EXPECT_EQ(teams + report.data_quality.quarantined_spend_nano_usd, ledger);

  // CSV: team rows + quarantine rows = the total row = the ledger.
  const testing::CsvTable csv = ReadCsvTable(render::RenderCsv(report));
  int64_t csv_sum = 0, csv_total = -1;
  for (const auto& row : csv.rows) {
    const std::string& section = row.at("section");
    if (section == "team" ||
        (section == "unattributed" && absl::StartsWith(row.at("key"), "quarantine:"))) {
      csv_sum += ParseNanoUsd(row.at("spend_usd")).value();
    }
    if (section == "total") csv_total = ParseNanoUsd(row.at("spend_usd")).value();
  }
  EXPECT_EQ(csv_sum, ledger);
  EXPECT_EQ(csv_total, ledger);

  // JSON: the same, from the integers.
  const nlohmann::json json = nlohmann::json::parse(render::RenderJson(report));
  int64_t json_sum = 0;
  for (const auto& t : json["teams"]) json_sum += t["spend_nano_usd"].get<int64_t>();
  for (const auto& u : json["data_quality"]["unattributed"]) {
    if (u["source"] == "quarantine") json_sum += u["spend_nano_usd"].get<int64_t>();
  }
  EXPECT_EQ(json_sum, ledger);
  EXPECT_EQ(json["total_spend_nano_usd"].get<int64_t>(), ledger);

  // FOCUS: BilledCost adds up to the ledger; the file is FOCUS 1.2 conformant.
  const std::string focus_csv = render::RenderFocusCsv(report);
  EXPECT_EQ(CheckFocus12(focus_csv), std::vector<std::string>{});
  const testing::CsvTable focus = ReadCsvTable(focus_csv);
  int64_t focus_sum = 0, corrections = 0, restated = 0;
  for (const auto& row : focus.rows) {
    focus_sum += ParseNanoUsd(row.at("BilledCost")).value();
    if (row.at("ChargeClass") == "Correction") {
      ++corrections;
      EXPECT_EQ(row.at("x_ParentRunId"), "run-after-close");
      EXPECT_EQ(row.at("BilledCost"), "0.010000000");
      EXPECT_EQ(row.at("ChargePeriodStart"), "2025-03-05T00:00:00Z");
      EXPECT_GT(row.at("BillingPeriodStart"), "2025-03-01T00:00:00Z");
    }
    if (row.at("x_Restated") == "true") ++restated;
    EXPECT_FALSE(row.at("x_ParentRunId").empty());
  }
  EXPECT_EQ(focus_sum, ledger);
  EXPECT_EQ(corrections, 1);
  EXPECT_GE(restated, 4);  // late step, late quarantined event, the two late reprices

  // Unpriced: counted, listed, never an amount.
  EXPECT_EQ(report.data_quality.unpriced_steps, static_cast<int64_t>(unpriced_.size()));
  EXPECT_EQ(report.data_quality.unpriced_quarantined_events, unpriced_quarantine_);
  const testing::CsvTable unpriced = ReadCsvTable(render::RenderUnpricedCsv(report));
  int64_t listed = 0;
  for (const auto& row : unpriced.rows) {
    listed += std::stoll(row.at("steps"));
    EXPECT_FALSE(row.at("reason").empty());
  }
  EXPECT_EQ(listed, static_cast<int64_t>(unpriced_.size()) + unpriced_quarantine_);
  for (const auto& row : focus.rows) {
    EXPECT_NE(row.at("x_ParentRunId"), "run-late2") << "late2 is unpriced: not in FOCUS";
  }

  // "(unattributed)" is shown but is no tenant: not flagged, not in the median.
  bool seen = false;
  for (const auto& t : report.tenants) {
    if (t.tenant == "(unattributed)") {
      seen = true;
      EXPECT_TRUE(t.unattributed);
      EXPECT_FALSE(t.margin_risk);
    } else {
      EXPECT_FALSE(t.margin_risk) << t.tenant;
    }
  }
  EXPECT_TRUE(seen);
  EXPECT_TRUE(report.tenants.back().unattributed);
}

}  // namespace
}  // namespace stepledger
