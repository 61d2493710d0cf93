#include "client/cli/dispatcher.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "client/cli/flags.h"

namespace stepledger::client {

void PrintUsage(absl::Span<const Command> commands, std::ostream& out) {
  out << "usage: stepledger [--target HOST:PORT] COMMAND [ARGS...]\n"
         "\n"
         "Global flags:\n"
         "  --target HOST:PORT  collector address (env STEPLEDGER_TARGET, default "
      << kDefaultTarget
      << ")\n"
         "  --version           print the version and exit\n"
         "\n"
         "Credentials (docs/SECURITY.md), from the environment only (argv is readable by\n"
         "every local user):\n"
         "  STEPLEDGER_API_KEY or STEPLEDGER_API_KEY_FILE   the API key sent with every call\n"
         "  STEPLEDGER_CA_CERT     CA of the collector's TLS certificate (unset: plaintext)\n"
         "  STEPLEDGER_CLIENT_CERT, STEPLEDGER_CLIENT_KEY   client certificate (mTLS)\n"
         "\n"
         "Commands:\n";
  size_t width = 4;  // "help"
  for (const Command& command : commands) width = std::max(width, command.name.size());
  auto row = [&](std::string_view name, std::string_view help) {
    out << "  " << name << std::string(width - name.size() + 2, ' ') << help << '\n';
  };
  for (const Command& command : commands) row(command.name, command.help);
  row("help", "show this help");
  out << "\nRun `stepledger COMMAND --help` for a command's own flags.\n";
}

int Dispatch(absl::Span<const Command> commands, const std::vector<std::string>& args,
             const std::string& default_target, std::string_view version, std::istream& in,
             std::ostream& out, std::ostream& err) {
  // The global flags on CLI11, as every command's own flags (flags.h): the first word that is
  // not a global flag is the command, and it and everything after it are the command's.
  CLI::App app("stepledger", "stepledger");
  std::string target = default_target;
  bool show_version = false;
  app.add_option("--target", target, "collector address HOST:PORT");
  app.add_flag("--version", show_version, "print the version and exit");
  app.prefix_command();
  absl::StatusOr<bool> help = ParseArgsInto(app, args);
  if (!help.ok()) {
    err << "stepledger: " << help.status().message() << "\n\n";
    PrintUsage(commands, err);
    return kExitUsage;
  }
  if (*help) {
    PrintUsage(commands, out);
    return kExitOk;
  }
  if (show_version) {
    out << "stepledger " << version << "\n";
    return kExitOk;
  }
  const std::vector<std::string> rest = app.remaining();
  // A prefix command hands on the first word it does not know, flags included.
  if (!rest.empty() && absl::StartsWith(rest[0], "-")) {
    err << "stepledger: unknown flag " << rest[0] << "\n\n";
    PrintUsage(commands, err);
    return kExitUsage;
  }
  if (target.empty()) {
    err << "stepledger: the target must not be empty\n";
    return kExitUsage;
  }
  if (rest.empty()) {
    err << "stepledger: no command given\n\n";
    PrintUsage(commands, err);
    return kExitUsage;
  }
  const std::string& name = rest[0];
  if (name == "help") {
    PrintUsage(commands, out);
    return kExitOk;
  }
  auto command = std::find_if(commands.begin(), commands.end(),
                              [&](const Command& c) { return c.name == name; });
  if (command == commands.end()) {
    err << "stepledger: unknown command '" << name << "'\n\n";
    PrintUsage(commands, err);
    return kExitUsage;
  }
  const std::vector<std::string> command_args(rest.begin() + 1, rest.end());
  return command->run(CliContext{target, in, out, err}, command_args);
}

}  // namespace stepledger::client
