// Command-line parsing for `stepledger` subcommands, on CLI11: one way to declare flags, one
// wording for errors ("unknown flag --x", "--x needs a value"), `--help` printed from the
// declarations, and the value forms every command shares (UTC days, months, times).
//
// Usage in a command:
//   CLI::App app("Rolls the ledger up per UTC day.", "stepledger rollup");
//   std::string day;
//   app.add_option("--day", day, "one UTC day, YYYY-MM-DD");
//   if (std::optional<int> exit = ParseFlags(app, args, context)) return *exit;
//
// Thread safety: stateless.
#ifndef STEPLEDGER_CLIENT_CLI_FLAGS_H_
#define STEPLEDGER_CLIENT_CLI_FLAGS_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "client/cli/cli_context.h"

namespace stepledger::client {

// Parses `args` (the command line after the command's name) into `app`'s options. Returns
// nullopt when the command should go on, or the exit status it must return: kExitOk after
// printing --help to context.out, kExitUsage after printing the error and the usage line to
// context.err. Unknown flags are reported as "unknown flag --name".
std::optional<int> ParseFlags(CLI::App& app, const std::vector<std::string>& args,
                              const CliContext& context);

// The same without printing: true when --help was asked for; InvalidArgument "unknown flag
// --x", "unexpected argument 'x'" or CLI11's message for a malformed value.
absl::StatusOr<bool> ParseArgsInto(CLI::App& app, const std::vector<std::string>& args);

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text);      // YYYY-MM-DD
absl::StatusOr<absl::CivilMonth> ParseMonth(const std::string& text);  // YYYY-MM
std::string DayText(absl::CivilDay day);                               // YYYY-MM-DD

// "2026-05-01" (00:00 UTC), RFC 3339 ("2026-05-01T12:00:00Z"), or an age before `now` such as
// "24h", "30m" or "7d". Errors name `flag`.
absl::StatusOr<absl::Time> ParseTimeArg(const std::string& flag, const std::string& text,
                                        absl::Time now);
// "2026-05-01T12:00:00Z".
std::string TimeText(absl::Time t);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_FLAGS_H_
