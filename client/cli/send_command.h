// `stepledger send`: streams a JSON Lines file of StepEvents to the collector and reports what
// the collector acked.
//
//   stepledger send [--batch-size N] [--streams S] [--unacked-out FILE] FILE|-
//
// The whole input is parsed before anything is sent, so a malformed line sends nothing.
// Exit status: 0 when every event was acked and none rejected; kExitRejected when some were
// rejected; kExitTransport when the stream failed or a batch was not acked (takes precedence:
// the totals are then incomplete); kExitUsage, kExitDataError, kExitNoInput for bad flags,
// malformed input and unreadable files.
//
// Thread safety: stateless; see CliContext.
#ifndef STEPLEDGER_CLIENT_CLI_SEND_COMMAND_H_
#define STEPLEDGER_CLIENT_CLI_SEND_COMMAND_H_

#include <string>
#include <vector>

#include "client/cli/cli_context.h"

namespace stepledger::client {

int RunSendCommand(const CliContext& context, const std::vector<std::string>& args);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_SEND_COMMAND_H_
