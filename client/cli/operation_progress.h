// How the CLI runs a long Admin operation (rollup, reprice): it starts it, polls it, and
// prints progress lines on stderr while it runs, so that a backfill of months shows how far it
// got and no call stays open for its whole length (admin.proto, "Long operations").
#ifndef STEPLEDGER_CLIENT_CLI_OPERATION_PROGRESS_H_
#define STEPLEDGER_CLIENT_CLI_OPERATION_PROGRESS_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/cli/cli_context.h"
#include "client/lib/admin_client.h"

namespace stepledger::client {

// Waits for `started` (a Start RPC's answer), printing to context.err "<what>: N/M days done
// (through DAY)" each time a day is done, or, when the operation does not count units,
// "<what>: running, T" every `quiet_for` or so. Returns the done operation or its error.
absl::StatusOr<v1::Operation> WaitShowingProgress(const CliContext& context,
                                                  const AdminClient& client, std::string_view what,
                                                  absl::StatusOr<v1::Operation> started,
                                                  absl::Duration quiet_for = absl::Seconds(10));

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_OPERATION_PROGRESS_H_
