// Flag parsing shared by the admin commands that talk to PostgreSQL directly (rollup, report,
// invoice): `--name value` or `--name=value`, the database URL from --database-url or
// STEPLEDGER_DATABASE_URL, and UTC dates/months/USD amounts.
//
// Thread safety: stateless (DatabaseUrlFrom reads the environment once per call).
#ifndef STEPLEDGER_CLIENT_CLI_ADMIN_FLAGS_H_
#define STEPLEDGER_CLIENT_CLI_ADMIN_FLAGS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"

namespace stepledger::client {

// Exit status when another process holds the rollup lock (sysexits EX_TEMPFAIL).
inline constexpr int kExitTempFail = 75;

// Parses args[start..] as flags, all of which take a value. Unknown flags and positional
// arguments are errors. "--help"/"-h" yields {"help": ""}.
absl::StatusOr<std::map<std::string, std::string>> ParseAdminFlags(
    const std::vector<std::string>& args, size_t start, const std::set<std::string>& known);

// --database-url if given, else $STEPLEDGER_DATABASE_URL; InvalidArgument when neither.
absl::StatusOr<std::string> DatabaseUrlFrom(const std::map<std::string, std::string>& flags);

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text);      // YYYY-MM-DD
absl::StatusOr<absl::CivilMonth> ParseMonth(const std::string& text);  // YYYY-MM
// A non-negative USD amount with at most 9 decimals, exactly, as nano-USD ("1234.5").
absl::StatusOr<int64_t> ParseUsd(const std::string& text);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_CLI_ADMIN_FLAGS_H_
