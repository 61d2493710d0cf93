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

std::string Day(absl::CivilDay day);        // "2026-11-28"
std::string Month(absl::CivilMonth month);  // "2026-11"
std::string Pct(double share);              // 0.125 -> "12.5%"
std::string Usd(int64_t nano_usd);          // rounded to cents
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

}  // namespace stepledger::render::internal

#endif  // STEPLEDGER_SERVER_RENDER_RENDER_INTERNAL_H_
