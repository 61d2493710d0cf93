// The pieces the `stepledger budget` subcommands share: the usage text, flag parsing (CLI11
// underneath, so every subcommand reports "unknown flag --x" the same way), a cap from the
// `set` flags, table printing, error reporting and file reading. Internal to client/cli.
//
// Thread safety: stateless.
#ifndef STEPLEDGER_CLIENT_CLI_BUDGET_CLI_H_
#define STEPLEDGER_CLIENT_CLI_BUDGET_CLI_H_

#include <google/protobuf/timestamp.pb.h>

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/cli/cli_context.h"
#include "client/lib/budget_client.h"
#include "stepledger/v1/budget.pb.h"

namespace stepledger::client::budget_cli {

extern const char kUsage[];

// A subcommand's parsed flags: value flags by name (without "--"), switches, positionals.
struct Args {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
  bool help = false;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  bool On(const std::string& name) const { return switches.count(name) > 0; }
};

// Parses args[start..]: `--name value` / `--name=value` for `value_flags`, `--name` for
// `switch_flags`, the rest positional (everything after "--" too). InvalidArgument saying
// "unknown flag --x" for a flag not declared.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& args, size_t start,
                               const std::set<std::string>& value_flags,
                               const std::set<std::string>& switch_flags);

// The flags that describe a cap (`set`, and `whatif` without --cap-file).
extern const std::set<std::string> kCapValueFlags;

// A cap from the `set` flags (names and dollars parsed; the rules are the collector's). With
// `proposed` (whatif), id, owner and signed-off-by may be left out.
absl::StatusOr<stepledger::v1::Cap> CapFromArgs(const Args& a, bool proposed);

std::string UnixSecondsText(int64_t seconds);                 // "2026-11-28 10:00:00Z"
std::string TimeText(const google::protobuf::Timestamp& ts);  // "-" when unset

// A plain text table: columns padded to their widest cell; `right` columns right-aligned.
void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, const std::set<size_t>& right);

std::string CodeName(absl::StatusCode code);
// Prints a failed RPC and returns its exit status (RpcFailure).
int Fail(const CliContext& context, const std::string& what, const absl::Status& status);
// Prints a usage error and returns kExitUsage.
int Usage(const CliContext& context, const std::string& what, const absl::Status& status);

BudgetClient MakeClient(const CliContext& context);

// Reads a whole file ("-" is the context's input). NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadInput(const CliContext& context, const std::string& path);

// The subcommands; `args` starts with the subcommand's name.
int RunSet(const CliContext& context, const std::vector<std::string>& args);
int RunList(const CliContext& context, const std::vector<std::string>& args);
int RunDelete(const CliContext& context, const std::vector<std::string>& args);
int RunApply(const CliContext& context, const std::vector<std::string>& args);
int RunCheck(const CliContext& context, const std::vector<std::string>& args);
int RunAck(const CliContext& context, const std::vector<std::string>& args);
int RunAcks(const CliContext& context, const std::vector<std::string>& args);
int RunWhatIf(const CliContext& context, const std::vector<std::string>& args);
int RunApprove(const CliContext& context, const std::vector<std::string>& args);
int RunPending(const CliContext& context, const std::vector<std::string>& args);

// Whether two caps have the same settings: what `apply` compares. The sign-off and the
// revision are the collector's, never the file's, so they are left out.
bool SameSettings(const stepledger::v1::Cap& a, const stepledger::v1::Cap& b);
// ", signed off by X" / ", awaiting sign-off by a second credential" for a stored cap.
std::string SignOffText(const stepledger::v1::Cap& cap);

}  // namespace stepledger::client::budget_cli

#endif  // STEPLEDGER_CLIENT_CLI_BUDGET_CLI_H_
