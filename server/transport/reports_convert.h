// Conversions between the Reports API (reports.proto) and the showback domain model.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_TRANSPORT_REPORTS_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_REPORTS_CONVERT_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "server/domain/reports/showback.h"
#include "server/render/render.h"
#include "stepledger/v1/reports.pb.h"

namespace stepledger::transport {

// An inclusive range of UTC days, from <= to.
struct DayInterval {
  absl::CivilDay from, to;
};

// A validated ShowbackRequest.
struct ShowbackQuery {
  absl::CivilDay from, to;                     // inclusive UTC days
  std::string environment;                     // "" = all
  std::optional<render::ReportFormat> format;  // none: structured only
  bool roll_up_missing = false;                // roll up never-rolled days first
};

// "YYYY-MM-DD".
std::string DayText(absl::CivilDay day);

// INVALID_ARGUMENT naming `field`.from / `field`.to for a malformed or inverted range.
absl::StatusOr<DayInterval> FromProto(const v1::DayRange& range, const std::string& field);

void ToProto(const domain::reports::InvoiceLine& line, v1::InvoiceLine* out);

// Validates the request; `today` (UTC) gives the default period, the month to date.
// INVALID_ARGUMENT naming the field (month, range.from, range.to, environment, format).
absl::StatusOr<ShowbackQuery> FromProto(const v1::ShowbackRequest& request, absl::CivilDay today);

// Fills the structured fields (not `rendered`). `environment` is echoed from the request.
void ToProto(const domain::reports::ShowbackReport& report, v1::Environment environment,
             v1::ShowbackReport* out);

v1::ReportFormat ToProto(render::ReportFormat format);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_REPORTS_CONVERT_H_
