// Helpers the showback renderers share (render.cc: table, CSV, JSON, FOCUS; render_html.cc:
// HTML). Internal to server/render. Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_RENDER_RENDER_INTERNAL_H_
#define STEPLEDGER_SERVER_RENDER_RENDER_INTERNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "server/domain/reports/showback.h"

namespace stepledger::render::internal {

// RFC 4180 CSV: a field quoted when it holds a comma, quote or line break; one line.
std::string CsvField(const std::string& value);
std::string CsvLine(const std::vector<std::string>& fields);

std::string Day(absl::CivilDay day);        // "2026-11-28"
std::string Month(absl::CivilMonth month);  // "2026-11"
std::string Pct(double share);              // 0.125 -> "12.5%"
std::string Usd(int64_t nano_usd);          // rounded to cents
// Dollars for a person, with thousands separators: Money(1234567890000, 2) is "$1,234.57",
// negative amounts "-$12.00"; `decimals` 0..9, rounded half away from zero.
std::string Money(int64_t nano_usd, int decimals);
// At most `max` characters, with "..." when cut.
std::string Shorten(const std::string& text, size_t max);
// A data-quality reason as a sentence for a finance reader: attribution statuses and the
// validation messages of rejected events, with the tag forms written out instead of as
// regular expressions. `source` is "ledger" or "quarantine".
std::string ReasonInWords(const std::string& source, const std::string& reason);
// Why a step has no price (docs/PRICING.md's closed set), in words.
std::string UnpricedReasonInWords(const std::string& reason);
// "gpt-4o 12.00; ..." for a line's top models.
std::string TopModels(const domain::reports::SpendLine& line);
// "no budget", "OVER" or "ok".
std::string Flag(const domain::reports::SpendLine& line);
// "2026-11-01 .. 2026-11-30 (rolled up through 2026-11-14), environment production".
std::string PeriodText(const domain::reports::ShowbackReport& report);
// A team or feature line as table cells, and the header of those cells ("team" or "feature"
// first).
std::vector<std::string> SpendRow(const domain::reports::SpendLine& line);
const std::vector<std::string>& SpendHeader(const std::string& first);
// A budget cap line as table cells (budget, spent, used %, burn rate, forecast, flag).
std::vector<std::string> CapRow(const domain::reports::CapLine& cap);
const std::vector<std::string>& CapHeader();

}  // namespace stepledger::render::internal

#endif  // STEPLEDGER_SERVER_RENDER_RENDER_INTERNAL_H_
