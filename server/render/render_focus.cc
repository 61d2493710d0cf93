// The FOCUS 1.2 export (RenderFocusCsv) and the list of unpriced entries that stays out of it
// (RenderUnpricedCsv). docs/REPORTS.md, "FOCUS 1.2", says what every column holds and why.
//
// One row per rollup_focus_daily row with an amount: a day, a run and its dimensions. The sum of
// BilledCost is the report's total (ledger + quarantined spend) to the nano-USD; unpriced
// entries have no amount, so they are never written as a BilledCost of 0.
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/render/render.h"
#include "server/render/render_internal.h"

namespace stepledger::render {

using domain::reports::FocusRow;
using domain::reports::UnpricedLine;
using internal::CsvLine;
using internal::Day;

namespace {

std::string Instant(absl::CivilDay day) { return absl::StrCat(Day(day), "T00:00:00Z"); }

bool IsModelKind(const std::string& kind) {
  return kind == "model_call" || kind == "embedding" || kind == "rerank";
}

// The model family: the model name without a trailing release date ("claude-sonnet-4-20250514"
// and "gpt-4o-2024-08-06" are the services "claude-sonnet-4" and "gpt-4o").
std::string ModelFamily(const std::string& model) {
  std::string out = model;
  auto strip = [&out](size_t digits, size_t len) {
    if (out.size() <= len + 1 || out[out.size() - len - 1] != '-') return false;
    size_t seen = 0;
    for (size_t i = out.size() - len; i < out.size(); ++i) {
      if (absl::ascii_isdigit(static_cast<unsigned char>(out[i]))) {
        ++seen;
      } else if (out[i] != '-') {
        return false;
      }
    }
    if (seen != digits) return false;
    out.resize(out.size() - len - 1);
    return true;
  };
  if (!strip(8, 8)) strip(8, 10);  // -YYYYMMDD or -YYYY-MM-DD
  return out;
}

}  // namespace

std::string FocusProviderName(const FocusRow& r) {
  return r.provider.empty() ? std::string(kFocusUnknownProvider) : r.provider;
}

std::string FocusServiceName(const FocusRow& r) {
  if (!r.model.empty()) return ModelFamily(r.model);
  if (!r.tool_name.empty()) return r.tool_name;
  return r.kind;
}

std::string FocusServiceCategory(const FocusRow& r) {
  if (IsModelKind(r.kind)) return "AI and Machine Learning";
  if (r.kind == "retrieval") return "Databases";
  return "Other";
}

std::string FocusServiceSubcategory(const FocusRow& r) {
  if (IsModelKind(r.kind)) return "Generative AI";
  if (r.kind == "retrieval") return "Other (Databases)";
  return "Other (Other)";
}

FocusQuantity FocusPricingQuantity(const FocusRow& r) {
  if (r.tokens > 0) return {r.tokens, "Tokens"};
  if (r.tool_units > 0) return {r.tool_units, "Units"};
  return {r.steps, "Requests"};
}

const std::vector<std::string>& FocusColumns() {
  static const auto* kColumns = new std::vector<std::string>{
      // FOCUS 1.2 columns: the mandatory ones, ChargeFrequency and ServiceSubcategory
      // (recommended), and the conditional ones that apply (usage, sub-account, tags).
      "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
      "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
      "ChargePeriodEnd", "ChargePeriodStart", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
      "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit",
      "ProviderName", "PublisherName", "ServiceCategory", "ServiceName", "ServiceSubcategory",
      "SubAccountId", "SubAccountName", "Tags",
      // stepledger's dimensions: the six tags, attribution, where the row comes from.
      "x_Feature", "x_Team", "x_WorkloadClass", "x_Tenant", "x_Environment", "x_ParentRunId",
      "x_AttributionStatus", "x_AttributionReason", "x_Source", "x_Restated", "x_Kind",
      "x_Provider", "x_Model", "x_ToolName", "x_Steps", "x_Tokens", "x_ToolUnits"};
  return *kColumns;
}

std::string RenderFocusCsv(const ShowbackReport& report) {
  std::string out = CsvLine(FocusColumns());
  for (const FocusRow& r : report.focus_rows) {
    if (!r.unpriced_reason.empty()) continue;  // no amount: in the unpriced list instead
    const std::string cost = FormatUsd(r.cost_nano_usd);
    const std::string provider = FocusProviderName(r);
    const FocusQuantity quantity = FocusPricingQuantity(r);
    nlohmann::ordered_json tags = nlohmann::ordered_json::object();
    for (const auto& [key, value] : std::vector<std::pair<const char*, const std::string*>>{
             {"feature", &r.feature},
             {"team", &r.team},
             {"workload_class", &r.workload_class},
             {"tenant", &r.tenant},
             {"environment", &r.environment},
             {"parent_run_id", &r.run}}) {
      if (!value->empty()) tags[key] = *value;
    }
    // A late entry within an open billing period restates the day (x_Restated); after the
    // provider's invoice for the month was imported it is a FOCUS Correction, billed in the
    // month it arrived.
    const bool correction = r.after_close;
    const bool restated = r.late && !r.after_close;
    std::string description = absl::StrCat(
        r.kind == "tool_call" ? "Tool " : "", FocusServiceName(r), " ", r.kind, " via ", provider,
        r.source == "quarantine" ? " (quarantined, unattributed)" : "");
    if (correction) absl::StrAppend(&description, "; correction after the invoice was imported");
    if (restated) absl::StrAppend(&description, "; restated: arrived after the day was reported");
    out += CsvLine({cost,
                    provider,
                    absl::StrCat(provider, " account"),
                    "USD",
                    Instant(absl::CivilDay(r.billing_month + 1)),
                    Instant(absl::CivilDay(r.billing_month)),
                    "Usage",
                    correction ? domain::reports::kChargeClassCorrection : "",
                    description,
                    "Usage-Based",
                    Instant(r.day + 1),
                    Instant(r.day),
                    absl::StrCat(quantity.amount),
                    quantity.unit,
                    cost,
                    cost,
                    provider,
                    cost,
                    absl::StrCat(quantity.amount),
                    quantity.unit,
                    provider,
                    provider,
                    FocusServiceCategory(r),
                    FocusServiceName(r),
                    FocusServiceSubcategory(r),
                    r.team,
                    r.team,
                    tags.dump(),
                    r.feature,
                    r.team,
                    r.workload_class,
                    r.tenant,
                    r.environment,
                    r.run,
                    r.attribution_status,
                    r.attribution_reason,
                    r.source,
                    restated ? "true" : "false",
                    r.kind,
                    r.provider,
                    r.model,
                    r.tool_name,
                    absl::StrCat(r.steps),
                    absl::StrCat(r.tokens),
                    absl::StrCat(r.tool_units)});
  }
  return out;
}

const std::vector<std::string>& UnpricedColumns() {
  static const auto* kColumns = new std::vector<std::string>{
      "day",    "source",      "reason", "steps", "tokens",   "team",  "feature",
      "tenant", "environment", "run",    "kind",  "provider", "model", "tool_name"};
  return *kColumns;
}

std::string RenderUnpricedCsv(const ShowbackReport& report) {
  std::string out = CsvLine(UnpricedColumns());
  for (const UnpricedLine& u : report.unpriced) {
    out += CsvLine({Day(u.day), u.source, u.reason, absl::StrCat(u.steps), absl::StrCat(u.tokens),
                    u.team, u.feature, u.tenant, u.environment, u.run, u.kind, u.provider, u.model,
                    u.tool_name});
  }
  return out;
}

}  // namespace stepledger::render
