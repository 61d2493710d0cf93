// `stepledger keys create|list|rotate|revoke`: API keys through the collector's Keys service
// (docs/SECURITY.md, "Key lifecycle"). Needs an admin key with the "*" scope.
#ifndef STEPLEDGER_CLIENT_CLI_KEYS_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_KEYS_COMMAND_H_

#include <string>
#include <vector>

#include "client/cli/cli_context.h"

namespace stepledger::client {

int RunKeysCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_KEYS_COMMAND_H_
