// `stepledger invoice import`: records a provider's invoiced total for a month, so the
// showback report can show attributed vs invoiced (a gap above 5% is flagged).
//
//   stepledger invoice import --provider P --period YYYY-MM --amount USD [--database-url URL]
//
// Importing the same provider and month again replaces the total. Exit status: 0 imported,
// 3 database error, 64 usage error.
#ifndef STEPLEDGER_CLIENT_CLI_INVOICE_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_INVOICE_COMMAND_H_

#include <string>
#include <vector>

#include "client/cli/cli_context.h"

namespace stepledger::client {

int RunInvoiceCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_INVOICE_COMMAND_H_
