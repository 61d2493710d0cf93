// The showback renderers (server/render/render.h) over a report built from hand-made rollup
// rows: a self-contained HTML page, JSON written with
// nlohmann-json that parses back, the days not rolled up, and the USD formatter.
#include "server/render/render.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/domain/reports/showback.h"
#include "server/render/render_internal.h"

namespace stepledger::render {
namespace {

using domain::reports::BuildShowback;
using domain::reports::CapPeriod;
using domain::reports::RollupRow;
using domain::reports::ShowbackInputs;

constexpr int64_t kUsd = 1'000'000'000;

RollupRow Row(absl::CivilDay day, const std::string& team, const std::string& feature,
              const std::string& tenant, int64_t cost, const std::string& status = "complete") {
  RollupRow r;
  r.day = day;
  r.team = team;
  r.feature = feature;
  r.tenant = tenant;
  r.workload_class = "interactive";
  r.environment = "production";
  r.kind = "model_call";
  r.provider = "openai";
  r.model = "gpt-x";
  r.attribution_status = status;
  r.steps = 10;
  r.cost_nano_usd = cost;
  r.runs = 2;
  r.output_tokens = 100;
  return r;
}

ShowbackInputs February() {
  ShowbackInputs in;
  in.from = absl::CivilDay(2025, 2, 1);
  in.to = absl::CivilDay(2025, 2, 28);
  in.through = absl::CivilDay(2025, 2, 14);  // half the month rolled up
  in.budgets_available = true;
  in.budgets = {{"team", "mail", CapPeriod::kMonthly, 100 * kUsd},
                {"team", "search", CapPeriod::kDaily, 1 * kUsd}};
  const absl::CivilDay d(2025, 2, 3);
  in.rows = {Row(d, "mail", "triage", "t1", 60 * kUsd), Row(d, "search", "rank", "t2", 10 * kUsd),
             Row(d, "search", "rank", "t3", 1 * kUsd), Row(d, "search", "rank", "t4", 1 * kUsd),
             Row(d, "ops", "misc", "t5", 8 * kUsd, "defaulted")};
  in.rows.back().attribution_reason = "";
  in.quarantine_rows = {{d, "", "missing_team", "production", 3, 0, 20 * kUsd}};
  in.tool_owner_rows = {{d, "", "search", "mail", "triage", "production", 4, 2 * kUsd}};
  in.run_stats = {{"team", "mail", 7, 3 * kUsd, 9 * kUsd}};
  in.invoices = {{"openai", absl::CivilMonth(2025, 2), 100 * kUsd}};
  return in;
}

TEST(RenderTest, HtmlIsSelfContainedWithTeamRowsAndCharts) {
  const std::string html = RenderHtml(BuildShowback(February(), absl::FromUnixSeconds(0)));
  EXPECT_TRUE(absl::StrContains(html, "<svg id=\"chart-teams\""));
  EXPECT_TRUE(absl::StrContains(html, "<svg id=\"chart-tenants\""));
  EXPECT_TRUE(absl::StrContains(html, "id=\"unattributed-share\""));
  EXPECT_TRUE(absl::StrContains(html, "<td>mail</td>"));
  EXPECT_TRUE(absl::StrContains(html, "<tr class=\"alert\"><td>mail</td>"));
  EXPECT_FALSE(absl::StrContains(html, "src="));
  EXPECT_FALSE(absl::StrContains(html, "<link"));
  EXPECT_FALSE(absl::StrContains(html, "http://") &&
               !absl::StrContains(html, "xmlns=\"http://www.w3.org/2000/svg\""));
}

TEST(RenderTest, JsonAndCsvAndTableMentionEveryTeam) {
  const ShowbackReport r = BuildShowback(February(), absl::FromUnixSeconds(0));
  for (ReportFormat f : {ReportFormat::kTable, ReportFormat::kCsv, ReportFormat::kJson}) {
    const std::string out = Render(r, f);
    for (const char* team : {"mail", "search", "ops"}) {
      EXPECT_TRUE(absl::StrContains(out, team)) << FormatName(f) << " " << team;
    }
  }
  EXPECT_TRUE(absl::StrContains(RenderJson(r), "\"spend_nano_usd\":80000000000"));
}

TEST(FormatUsdTest, ExactAndRounded) {
  EXPECT_EQ(FormatUsd(1), "0.000000001");
  EXPECT_EQ(FormatUsd(-1'500'000'000), "-1.500000000");
  EXPECT_EQ(FormatUsd(1'005'000'000, 2), "1.01");
  EXPECT_EQ(FormatUsd(-4'000'000, 2), "0.00");  // rounds to zero: no "-0.00"
  EXPECT_EQ(FormatUsd(12 * kUsd, 0), "12");
}

TEST(RenderTest, JsonParsesBackWithExactAmountsAndTheMissingDays) {
  ShowbackInputs in = February();
  in.missing_days = {absl::CivilDay(2025, 2, 15), absl::CivilDay(2025, 2, 16)};
  const nlohmann::json doc =
      nlohmann::json::parse(RenderJson(BuildShowback(in, absl::FromUnixSeconds(0))));
  EXPECT_EQ(doc["from"], "2025-02-01");
  EXPECT_EQ(doc["through"], "2025-02-14");
  EXPECT_EQ(doc["spend_nano_usd"].get<int64_t>(), 80 * kUsd);
  EXPECT_EQ(doc["spend_usd"], "80.000000000");
  ASSERT_EQ(doc["missing_days"].size(), 2u);
  EXPECT_EQ(doc["missing_days"][1], "2025-02-16");
  ASSERT_EQ(doc["teams"].size(), 3u);
  EXPECT_EQ(doc["teams"][0]["key"], "mail");
  EXPECT_EQ(doc["invoices"][0]["flagged"], true);
  EXPECT_EQ(doc["data_quality"]["unattributed"][0]["source"].is_string(), true);
}

TEST(RenderTest, TableSaysWhichDaysAreNotRolledUpAndHowToFillThem) {
  ShowbackInputs in = February();
  in.missing_days = {absl::CivilDay(2025, 2, 15), absl::CivilDay(2025, 2, 28)};
  const std::string table = RenderTable(BuildShowback(in, absl::FromUnixSeconds(0)));
  EXPECT_TRUE(absl::StrContains(table, "Not rolled up yet"));
  EXPECT_TRUE(absl::StrContains(table, "stepledger rollup --from 2025-02-15 --to 2025-02-28"));
  EXPECT_FALSE(absl::StrContains(RenderTable(BuildShowback(February(), absl::FromUnixSeconds(0))),
                                 "Not rolled up yet"));
}

TEST(MoneyTest, DollarsWithSeparatorsAndAFixedNumberOfDecimals) {
  EXPECT_EQ(internal::Money(1'234'567'890'000, 2), "$1,234.57");
  EXPECT_EQ(internal::Money(-12'000'000'000, 2), "-$12.00");
  EXPECT_EQ(internal::Money(19'020'000, 4), "$0.0190");
  EXPECT_EQ(internal::Money(0, 2), "$0.00");
}

TEST(RenderTest, HtmlSaysWhyInWordsAndShowsNoEmptyTable) {
  ShowbackInputs in = February();
  in.quarantine_rows[0].reason = "missing: required in production (form [a-z0-9][a-z0-9._-]{0,63})";
  in.tool_owner_rows.clear();
  const std::string html = RenderHtml(BuildShowback(in, absl::FromUnixSeconds(0)));
  EXPECT_FALSE(absl::StrContains(html, "{0,63}"));
  EXPECT_TRUE(absl::StrContains(html, "Rejected: A required tag was missing in production"));
  EXPECT_FALSE(absl::StrContains(html, "tool-owner-rows"));
  EXPECT_TRUE(absl::StrContains(html, "No team&#39;s tools were used by another team"));
  EXPECT_TRUE(absl::StrContains(html, "USD"));
  EXPECT_TRUE(absl::StrContains(html, "@media print"));
}

}  // namespace
}  // namespace stepledger::render
