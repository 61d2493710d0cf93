// `stepledger invoice import`: records a provider's invoiced total for a month, so the
// showback report can show attributed vs invoiced (a gap above 5% is flagged), through the
// collector (Admin.ImportInvoice), and prints that reconciliation.
//
//   stepledger invoice import --provider P --period YYYY-MM --amount USD
//   stepledger invoice import --provider P --csv FILE
//
// Importing the same provider and month again replaces the total. Exit status: 0 imported,
// 3 collector unreachable or failed, 64 usage error, 65 malformed CSV, 66 CSV not readable.
#ifndef STEPLEDGER_CLIENT_CLI_INVOICE_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_INVOICE_COMMAND_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "client/cli/cli_context.h"

namespace stepledger::client {

int RunInvoiceCommand(const CliContext& context, const std::vector<std::string>& args);

// Parses a provider's daily totals, one "YYYY-MM-DD,USD" line each (a first line starting with
// "date" is a header; blank lines and "#" comments are skipped), into exact nano-USD totals per
// month. Errors name the line. A day listed twice is an error (it would be counted twice).
absl::StatusOr<std::map<absl::CivilMonth, int64_t>> ParseDailyInvoiceCsv(const std::string& text);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_INVOICE_COMMAND_H_
