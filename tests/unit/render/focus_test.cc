// The FOCUS 1.2 export (render_focus.cc) over hand-made line items of every kind: model,
// embedding, tool and retrieval steps, a quarantined event without a provider, a late entry in
// an open period (restated), one after the invoice was imported (Correction) and unpriced
// entries (left out, listed apart). The file passes every rule tests/fakes/focus_checker.h
// decides from the file alone; the checker itself is shown to catch broken files.
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "server/domain/reports/showback.h"
#include "server/render/render.h"
#include "tests/fakes/focus_checker.h"

namespace stepledger::render {
namespace {

using domain::reports::BuildShowback;
using domain::reports::FocusRow;
using domain::reports::ShowbackInputs;
using testing::CheckFocus12;
using testing::ParseNanoUsd;
using testing::ReadCsvTable;

FocusRow Item(const std::string& kind, const std::string& provider, const std::string& model,
              int64_t cost) {
  FocusRow r;
  r.day = absl::CivilDay(2025, 2, 3);
  r.source = "ledger";
  r.billing_month = absl::CivilMonth(2025, 2);
  r.run = "run-1";
  r.feature = "triage";
  r.team = "mail";
  r.tenant = "acme";
  r.workload_class = "interactive";
  r.environment = "production";
  r.kind = kind;
  r.provider = provider;
  r.model = model;
  r.attribution_status = "complete";
  r.steps = 3;
  r.cost_nano_usd = cost;
  r.tokens = kind == "tool_call" || kind == "retrieval" ? 0 : 1200;
  return r;
}

ShowbackInputs Inputs() {
  ShowbackInputs in;
  in.from = absl::CivilDay(2025, 2, 1);
  in.to = absl::CivilDay(2025, 2, 28);
  in.through = in.to;
  in.focus_rows.push_back(Item("model_call", "anthropic", "claude-sonnet-4-20250514", 19'020'000));
  in.focus_rows.push_back(Item("embedding", "vertex_ai", "gemini-embedding-001", 1'000));
  FocusRow tool = Item("tool_call", "", "", 5'000'000);
  tool.tool_name = "web_search";
  tool.tool_units = 4;
  in.focus_rows.push_back(tool);
  in.focus_rows.push_back(Item("retrieval", "pgvector", "", 12'000));
  FocusRow quarantined = Item("model_call", "", "", 7'000'000);
  quarantined.source = "quarantine";
  quarantined.feature = quarantined.team = quarantined.tenant = quarantined.workload_class = "";
  quarantined.attribution_status = "quarantined";
  quarantined.attribution_reason = "missing: required in production";
  in.focus_rows.push_back(quarantined);
  FocusRow late = Item("model_call", "openai", "gpt-4o-2024-08-06", 123'456'789);
  late.late = true;
  in.focus_rows.push_back(late);
  FocusRow corrected = Item("model_call", "openai", "gpt-4o", -333);
  corrected.late = corrected.after_close = true;
  corrected.billing_month = absl::CivilMonth(2025, 4);
  corrected.steps = 0;
  corrected.tokens = 0;
  in.focus_rows.push_back(corrected);
  FocusRow unpriced = Item("model_call", "openai", "mystery-model", 0);
  unpriced.run = "run-unpriced";
  unpriced.unpriced_reason = "unknown_model";
  in.focus_rows.push_back(unpriced);
  return in;
}

TEST(FocusTest, ExportPassesEveryFileCheckableRuleOfFocus12) {
  const std::string csv = RenderFocusCsv(BuildShowback(Inputs(), absl::FromUnixSeconds(0)));
  EXPECT_EQ(CheckFocus12(csv), std::vector<std::string>{}) << csv;
}

TEST(FocusTest, RowsSayWhatWasBoughtFromWhomAndSumToTheTotal) {
  const ShowbackInputs in = Inputs();
  const testing::CsvTable t =
      ReadCsvTable(RenderFocusCsv(BuildShowback(in, absl::FromUnixSeconds(0))));
  ASSERT_EQ(t.rows.size(), in.focus_rows.size() - 1);  // the unpriced item is left out
  int64_t sum = 0;
  for (const auto& r : t.rows) {
    sum += ParseNanoUsd(r.at("BilledCost")).value();
    EXPECT_EQ(r.at("BilledCost"), r.at("ListCost"));
    EXPECT_EQ(r.at("BilledCost"), r.at("EffectiveCost"));
    EXPECT_EQ(r.at("BilledCost"), r.at("ContractedCost"));
    EXPECT_EQ(r.at("ChargeFrequency"), "Usage-Based");
    EXPECT_NE(r.at("x_ParentRunId"), "run-unpriced");
  }
  int64_t want = 0;
  for (const FocusRow& r : in.focus_rows) want += r.cost_nano_usd;
  EXPECT_EQ(sum, want);

  const auto& model = t.rows[0];
  EXPECT_EQ(model.at("ProviderName"), "anthropic");
  EXPECT_EQ(model.at("PublisherName"), "anthropic");
  EXPECT_EQ(model.at("InvoiceIssuerName"), "anthropic");
  EXPECT_EQ(model.at("BillingAccountId"), "anthropic");
  EXPECT_EQ(model.at("ServiceName"), "claude-sonnet-4");
  EXPECT_EQ(model.at("ServiceCategory"), "AI and Machine Learning");
  EXPECT_EQ(model.at("PricingQuantity"), "1200");
  EXPECT_EQ(model.at("PricingUnit"), "Tokens");
  EXPECT_EQ(model.at("BillingPeriodStart"), "2025-02-01T00:00:00Z");
  EXPECT_EQ(model.at("BillingPeriodEnd"), "2025-03-01T00:00:00Z");
  EXPECT_EQ(model.at("ChargePeriodStart"), "2025-02-03T00:00:00Z");
  EXPECT_EQ(model.at("ChargePeriodEnd"), "2025-02-04T00:00:00Z");
  EXPECT_EQ(model.at("SubAccountId"), "mail");
  for (const char* c : {"x_Feature", "x_Team", "x_WorkloadClass", "x_Tenant", "x_Environment",
                        "x_ParentRunId", "x_AttributionStatus"}) {
    EXPECT_FALSE(model.at(c).empty()) << c;
  }

  const auto& tool = t.rows[2];
  EXPECT_EQ(tool.at("ServiceName"), "web_search");
  EXPECT_EQ(tool.at("ServiceCategory"), "Other");
  EXPECT_EQ(tool.at("PricingUnit"), "Units");
  EXPECT_EQ(tool.at("PricingQuantity"), "4");
  EXPECT_EQ(tool.at("ProviderName"), kFocusUnknownProvider);
  EXPECT_EQ(t.rows[3].at("ServiceCategory"), "Databases");
  EXPECT_EQ(t.rows[3].at("PricingUnit"), "Requests");

  const auto& quarantined = t.rows[4];
  EXPECT_EQ(quarantined.at("x_Source"), "quarantine");
  EXPECT_EQ(quarantined.at("SubAccountId"), "");
  EXPECT_EQ(quarantined.at("SubAccountName"), "");

  EXPECT_EQ(t.rows[5].at("ChargeClass"), "");
  EXPECT_EQ(t.rows[5].at("x_Restated"), "true");
  EXPECT_EQ(t.rows[5].at("ServiceName"), "gpt-4o");
  EXPECT_EQ(t.rows[6].at("ChargeClass"), "Correction");
  EXPECT_EQ(t.rows[6].at("x_Restated"), "false");
  EXPECT_EQ(t.rows[6].at("BillingPeriodStart"), "2025-04-01T00:00:00Z");
  EXPECT_EQ(t.rows[6].at("BilledCost"), "-0.000000333");
}

TEST(FocusTest, UnpricedItemsAreListedApartWithTheirReason) {
  const ShowbackReport report = BuildShowback(Inputs(), absl::FromUnixSeconds(0));
  const testing::CsvTable t = ReadCsvTable(RenderUnpricedCsv(report));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].at("reason"), "unknown_model");
  EXPECT_EQ(t.rows[0].at("model"), "mystery-model");
  EXPECT_EQ(t.rows[0].at("steps"), "3");
  EXPECT_EQ(t.header, UnpricedColumns());
}

TEST(FocusTest, TheCheckerCatchesBrokenFiles) {
  const std::string good = RenderFocusCsv(BuildShowback(Inputs(), absl::FromUnixSeconds(0)));
  // A missing mandatory column.
  EXPECT_FALSE(CheckFocus12(absl::StrReplaceAll(good, {{"InvoiceIssuerName", "Issuer"}})).empty());
  // A value outside the allowed list, and a null where none is allowed.
  EXPECT_FALSE(CheckFocus12(absl::StrReplaceAll(good, {{",Usage-Based,", ",Sometimes,"}})).empty());
  EXPECT_FALSE(CheckFocus12(absl::StrReplaceAll(good, {{",USD,", ",,"}})).empty());
  // A date that is not ISO 8601 UTC.
  EXPECT_FALSE(
      CheckFocus12(absl::StrReplaceAll(good, {{"2025-02-03T00:00:00Z", "2025-02-03"}})).empty());
}

}  // namespace
}  // namespace stepledger::render
