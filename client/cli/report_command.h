// `stepledger report showback`: the showback/variance report from the daily rollups, budgets
// and invoices, built by the collector (Reports.GetShowback).
//
//   stepledger report showback [--month YYYY-MM | --from D1 --to D2] [--environment ENV]
//                              [--format table|csv|json|focus|html] [--out FILE]
//                              [--roll-up-missing]
//
// Default period: the current UTC month to date. Exit status: 0 written, 3 collector
// unreachable or failed, 64 usage error, 73 the output file cannot be written.
#ifndef STEPLEDGER_CLIENT_CLI_REPORT_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_REPORT_COMMAND_H_

#include <string>
#include <vector>

#include "client/cli/cli_context.h"

namespace stepledger::client {

int RunReportCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_REPORT_COMMAND_H_
