// BuildShowback over hand-made rollup rows (the renderers: tests/unit/render).
#include "server/domain/reports/showback.h"

#include "gtest/gtest.h"

namespace stepledger::domain::reports {
namespace {

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

TEST(ShowbackTest, TeamLinesCarryBudgetProratedBudgetAndVariance) {
  const ShowbackReport r = BuildShowback(February(), absl::FromUnixSeconds(0));
  ASSERT_EQ(r.teams.size(), 3u);
  const SpendLine& mail = r.teams[0];
  EXPECT_EQ(mail.key, "mail");
  EXPECT_EQ(mail.spend_nano_usd, 60 * kUsd);
  EXPECT_EQ(mail.budget_nano_usd, 100 * kUsd);
  EXPECT_EQ(mail.prorated_budget_nano_usd, 50 * kUsd);  // 14 of 28 days
  EXPECT_EQ(mail.variance.variance_nano_usd, 10 * kUsd);
  EXPECT_TRUE(mail.variance.over_budget);
  EXPECT_EQ(mail.runs, 7);
  EXPECT_EQ(mail.run_cost_p95_nano_usd, 9 * kUsd);
  const SpendLine& search = r.teams[1];
  EXPECT_EQ(search.budget_nano_usd, 28 * kUsd);
  EXPECT_EQ(search.prorated_budget_nano_usd, 14 * kUsd);
  EXPECT_FALSE(search.variance.over_budget);
  EXPECT_FALSE(r.teams[2].has_budget);
}

TEST(ShowbackTest, TenantsFarAboveTheMedianAreMarginRisks) {
  const ShowbackReport r = BuildShowback(February(), absl::FromUnixSeconds(0));
  // Spends 60, 10, 1, 1, 8: median 8, and 60 is not above 80.
  for (const TenantLine& t : r.tenants) EXPECT_FALSE(t.margin_risk) << t.tenant;
  ShowbackInputs in = February();
  in.rows.push_back(Row(absl::CivilDay(2025, 2, 4), "mail", "triage", "t1", 30 * kUsd));
  const ShowbackReport r2 = BuildShowback(in, absl::FromUnixSeconds(0));
  ASSERT_EQ(r2.tenants[0].tenant, "t1");
  EXPECT_TRUE(r2.tenants[0].margin_risk);  // 90 > 10 x 8
  EXPECT_NEAR(r2.tenants[0].share, 90.0 / 110.0, 1e-12);
}

TEST(ShowbackTest, UnattributedShareCountsDefaultedStepsAndQuarantinedCost) {
  const ShowbackReport r = BuildShowback(February(), absl::FromUnixSeconds(0));
  const DataQuality& dq = r.data_quality;
  EXPECT_EQ(dq.total_spend_nano_usd, 100 * kUsd);  // 80 ledger + 20 quarantined
  EXPECT_EQ(dq.unattributed_spend_nano_usd, 28 * kUsd);
  EXPECT_DOUBLE_EQ(dq.unattributed_share, 0.28);
  ASSERT_EQ(dq.unattributed.size(), 2u);
  EXPECT_EQ(dq.unattributed[0].reason, "defaulted");
  EXPECT_EQ(dq.unattributed[1].source, "quarantine");
  EXPECT_DOUBLE_EQ(dq.unattributed[1].share, 0.2);
}

TEST(ShowbackTest, InvoiceGapComparesTheProvidersAttributedSpend) {
  const ShowbackReport r = BuildShowback(February(), absl::FromUnixSeconds(0));
  ASSERT_EQ(r.invoices.size(), 1u);
  EXPECT_EQ(r.invoices[0].attributed_nano_usd, 80 * kUsd);
  EXPECT_TRUE(r.invoices[0].flagged);
}

TEST(ReconcileImportedTest, OnlyTheImportedMonthsOfThatProviderAgainstAttributedSpend) {
  const std::vector<Invoice> imported = {{"openai", absl::CivilMonth(2025, 2), 100 * kUsd}};
  const auto [from, to] =
      InvoicedDays({{"x", absl::CivilMonth(2025, 3), 1}, {"x", absl::CivilMonth(2025, 1), 1}});
  EXPECT_EQ(from, absl::CivilDay(2025, 1, 1));
  EXPECT_EQ(to, absl::CivilDay(2025, 3, 31));
  ShowbackInputs in = February();
  in.invoices.push_back({"anthropic", absl::CivilMonth(2025, 2), 5 * kUsd});
  const std::vector<InvoiceLine> lines = ReconcileImported(in, imported);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].provider, "openai");
  EXPECT_EQ(lines[0].invoiced_nano_usd, 100 * kUsd);
  EXPECT_EQ(lines[0].attributed_nano_usd, 80 * kUsd);
  EXPECT_TRUE(lines[0].flagged);
}

TEST(ShowbackTest, UnattributedIsNoTenantAndTakesNoPartInTheMedian) {
  ShowbackInputs in = February();
  // t1 at 85: above 10x the median of the five tenants {1, 1, 8, 10, 85} (8). Counted as a
  // tenant, (unattributed) would move the median to 9 (t1 no longer flagged) and be flagged
  // itself.
  in.rows[0].cost_nano_usd = 85 * kUsd;
  in.rows.push_back(
      Row(absl::CivilDay(2025, 2, 4), "ops", "misc", "(unattributed)", 500 * kUsd, "defaulted"));
  const ShowbackReport r = BuildShowback(in, absl::UnixEpoch());
  ASSERT_FALSE(r.tenants.empty());
  EXPECT_EQ(r.tenants.back().tenant, "(unattributed)");
  EXPECT_TRUE(r.tenants.back().unattributed);
  EXPECT_FALSE(r.tenants.back().margin_risk);
  for (const TenantLine& t : r.tenants) {
    if (!t.unattributed) {
      EXPECT_EQ(t.margin_risk, t.tenant == "t1") << t.tenant;
    }
  }
}

TEST(ShowbackTest, TheTotalHoldsQuarantinedSpendAndCapsForecastFromTheBurnRate) {
  const ShowbackReport r = BuildShowback(February(), absl::UnixEpoch());
  EXPECT_EQ(r.spend_nano_usd, 80 * kUsd);
  EXPECT_EQ(r.total_spend_nano_usd, 100 * kUsd);
  EXPECT_EQ(r.data_quality.quarantined_spend_nano_usd, 20 * kUsd);
  ASSERT_EQ(r.caps.size(), 2u);
  const CapLine& mail = r.caps[0];
  EXPECT_EQ(mail.key, "mail");
  EXPECT_EQ(mail.budget_nano_usd, 100 * kUsd);
  EXPECT_EQ(mail.spend_nano_usd, 60 * kUsd);
  EXPECT_EQ(mail.elapsed_days, 14);
  EXPECT_EQ(mail.burn_nano_usd_per_day, 60 * kUsd / 14);
  EXPECT_EQ(mail.forecast_nano_usd, 120 * kUsd);  // 60 in 14 of 28 days
  EXPECT_TRUE(mail.forecast_over);
  const CapLine& search = r.caps[1];
  EXPECT_EQ(search.budget_nano_usd, 28 * kUsd);
  EXPECT_EQ(search.forecast_nano_usd, 24 * kUsd);
  EXPECT_FALSE(search.forecast_over);
}

}  // namespace
}  // namespace stepledger::domain::reports
