// VisibleInputs (domain/reports/showback_scope.h): what a scoped report-read key's showback is
// built from.
#include "server/domain/reports/showback_scope.h"

#include "gtest/gtest.h"

namespace stepledger::domain::reports {
namespace {

auth::Scopes ScopesOf(const std::vector<std::string>& entries) {
  absl::StatusOr<auth::Scopes> scopes = auth::Scopes::Parse(entries);
  EXPECT_TRUE(scopes.ok()) << scopes.status();
  return *scopes;
}

RollupRow Row(const std::string& team, const std::string& tenant, int64_t cost) {
  RollupRow r;
  r.team = team;
  r.feature = team + "-chat";
  r.tenant = tenant;
  r.cost_nano_usd = cost;
  return r;
}

ShowbackInputs Inputs() {
  ShowbackInputs in;
  in.rows = {Row("search", "acme", 1), Row("billing", "globex", 2), Row("search", "globex", 4)};
  FocusRow focus;
  focus.team = "search";
  focus.feature = "search-chat";
  focus.tenant = "acme";
  focus.source = "ledger";
  FocusRow rejected = focus;
  rejected.source = "quarantine";  // tagged search, but rejected: nobody's line
  in.focus_rows = {focus, rejected};
  in.tool_owner_rows = {ToolOwnerRow{.charged_team = "search", .charged_feature = "search-chat"},
                        ToolOwnerRow{.charged_team = "billing", .charged_feature = "x"}};
  in.quarantine_rows = {QuarantineRow{.reason = "bad tags", .cost_nano_usd = 9}};
  in.run_stats = {RunStats{.scope = "team", .key = "search"},
                  RunStats{.scope = "team", .key = "billing"}};
  in.budgets = {BudgetCap{.scope = "team", .key = "search"},
                BudgetCap{.scope = "team", .key = "billing"},
                BudgetCap{.scope = "org", .key = "*"}};
  in.invoices = {Invoice{.provider = "openai", .amount_nano_usd = 100}};
  return in;
}

TEST(ShowbackScopeTest, AllScopeSeesEverything) {
  const ShowbackInputs out = VisibleInputs(auth::Scopes::All(), Inputs());
  EXPECT_EQ(out.rows.size(), 3u);
  EXPECT_EQ(out.focus_rows.size(), 2u);
  EXPECT_EQ(out.quarantine_rows.size(), 1u);
  EXPECT_EQ(out.budgets.size(), 3u);
  EXPECT_EQ(out.invoices.size(), 1u);
}

TEST(ShowbackScopeTest, TeamKeyKeepsOnlyItsTeamsLinesAndDropsWhatIsNobodysTeam) {
  const ShowbackInputs out = VisibleInputs(ScopesOf({"team:search"}), Inputs());
  ASSERT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.rows[0].cost_nano_usd + out.rows[1].cost_nano_usd, 5);
  ASSERT_EQ(out.focus_rows.size(), 1u);
  EXPECT_EQ(out.focus_rows[0].source, "ledger");
  ASSERT_EQ(out.tool_owner_rows.size(), 1u);
  EXPECT_EQ(out.tool_owner_rows[0].charged_team, "search");
  ASSERT_EQ(out.run_stats.size(), 1u);
  EXPECT_EQ(out.run_stats[0].key, "search");
  ASSERT_EQ(out.budgets.size(), 1u);  // not billing's, not the org's
  EXPECT_EQ(out.budgets[0].key, "search");
  EXPECT_TRUE(out.quarantine_rows.empty());
  EXPECT_TRUE(out.invoices.empty());
}

TEST(ShowbackScopeTest, TeamAndTenantKeyNeedsBothAndCoversNoWholeTeam) {
  const ShowbackInputs out = VisibleInputs(ScopesOf({"team:search", "tenant:globex"}), Inputs());
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].cost_nano_usd, 4);
  EXPECT_TRUE(out.focus_rows.empty());       // search's focus row is tenant acme
  EXPECT_TRUE(out.tool_owner_rows.empty());  // no tenant on tool-owner rows
  EXPECT_TRUE(out.run_stats.empty());        // team statistics span every tenant
  EXPECT_TRUE(out.budgets.empty());
}

TEST(ShowbackScopeTest, NoScopeSeesNothing) {
  const ShowbackInputs out = VisibleInputs(auth::Scopes(), Inputs());
  EXPECT_TRUE(out.rows.empty());
  EXPECT_TRUE(out.budgets.empty());
  EXPECT_TRUE(out.invoices.empty());
}

}  // namespace
}  // namespace stepledger::domain::reports
