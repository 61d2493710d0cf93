#include "client/cli/dispatcher.h"

#include <algorithm>

#include "absl/strings/match.h"

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
  std::string target = default_target;
  size_t i = 0;
  // Global flags stop at the first word that is not one: that word is the command.
  for (; i < args.size() && absl::StartsWith(args[i], "-"); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      PrintUsage(commands, out);
      return kExitOk;
    }
    if (arg == "--version") {
      out << "stepledger " << version << "\n";
      return kExitOk;
    }
    if (arg == "--target") {
      if (i + 1 == args.size()) {
        err << "stepledger: --target needs a value (HOST:PORT)\n";
        return kExitUsage;
      }
      target = args[++i];
    } else if (absl::StartsWith(arg, "--target=")) {
      target = arg.substr(sizeof("--target=") - 1);
    } else {
      err << "stepledger: unknown flag " << arg << "\n\n";
      PrintUsage(commands, err);
      return kExitUsage;
    }
  }
  if (target.empty()) {
    err << "stepledger: the target must not be empty\n";
    return kExitUsage;
  }
  if (i == args.size()) {
    err << "stepledger: no command given\n\n";
    PrintUsage(commands, err);
    return kExitUsage;
  }
  const std::string& name = args[i];
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
  const std::vector<std::string> command_args(args.begin() + i + 1, args.end());
  return command->run(CliContext{target, in, out, err}, command_args);
}

}  // namespace stepledger::client
