// Renderers of a ShowbackReport: presentation, kept out of the domain (the report model is
// domain/reports/showback.h). Each returns the whole document as a string; none does I/O. The
// collector renders for Reports.GetShowback and the nightly report files; clients print what
// it sends.
//
//   table  aligned plain text for a terminal (the default)
//   csv    one row per report line, with a `section` column (team, feature, tenant, ...)
//   json   the report as one object, written with nlohmann-json (amounts as exact nano-USD
//          integers and USD strings; shares to 6 decimals; missing_days)
//   focus  FinOps FOCUS 1.2 CSV (render_focus.cc), one row per day, run and dimensions
//          with an amount; unpriced entries are left out of it
//   unpriced  the entries left out of the FOCUS file: no amount, listed with their reason
//   html   one self-contained page: inline CSS and inline SVG charts, no external assets
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_RENDER_RENDER_H_
#define STEPLEDGER_SERVER_RENDER_RENDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/reports/showback.h"

namespace stepledger::render {

using domain::reports::ShowbackReport;

enum class ReportFormat { kTable, kCsv, kJson, kFocus, kHtml, kUnpriced };

absl::StatusOr<ReportFormat> ParseReportFormat(std::string_view name);
std::string_view FormatName(ReportFormat format);
// "txt", "csv", "json", "focus.csv", "html", "unpriced.csv"
std::string_view FileExtension(ReportFormat format);

// Every format, in the order the nightly job writes them.
const std::vector<ReportFormat>& AllReportFormats();

// nano-USD as a USD decimal: all 9 decimals (exact) or rounded to `decimals`.
std::string FormatUsd(int64_t nano_usd, int decimals = 9);

// The column names of the FOCUS export, in order.
const std::vector<std::string>& FocusColumns();

// How a FOCUS row is described (render_focus.cc; exposed for tests and the HTML page).
inline constexpr char kFocusUnknownProvider[] = "Unspecified";
struct FocusQuantity {
  int64_t amount = 0;
  std::string unit;  // "Tokens", "Units" (tool units) or "Requests" (steps)
};
std::string FocusProviderName(const domain::reports::FocusRow& row);
std::string FocusServiceName(const domain::reports::FocusRow& row);
std::string FocusServiceCategory(const domain::reports::FocusRow& row);
std::string FocusServiceSubcategory(const domain::reports::FocusRow& row);
FocusQuantity FocusPricingQuantity(const domain::reports::FocusRow& row);

// The columns of the unpriced list.
const std::vector<std::string>& UnpricedColumns();

std::string RenderTable(const ShowbackReport& report);
std::string RenderCsv(const ShowbackReport& report);
std::string RenderJson(const ShowbackReport& report);
std::string RenderFocusCsv(const ShowbackReport& report);
std::string RenderHtml(const ShowbackReport& report);
std::string RenderUnpricedCsv(const ShowbackReport& report);

std::string Render(const ShowbackReport& report, ReportFormat format);

}  // namespace stepledger::render

#endif  // STEPLEDGER_SERVER_RENDER_RENDER_H_
