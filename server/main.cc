// stepledger-collector: flags -> config -> app::Run(); nothing else.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "buildinfo/build_info.h"
#include "server/app/app.h"
#include "server/common/log.h"
#include "server/config/config.h"

int main(int argc, char** argv) {
  // Block the shutdown signals (and SIGHUP: reload the price catalog) before any thread
  // exists, so all threads inherit the mask and app::Run() receives them with sigwait().
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Abseil's lock-order graph costs time on every lock; the hot paths (budget checks, the
  // writer) lock often. Tests and the clang -Wthread-safety build are where lock order is
  // checked.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--version") {
    std::printf("stepledger-collector %s\n", stepledger::build_info::VersionText().c_str());
    return 0;
  }
  auto config = stepledger::config::LoadConfig(args, [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v == nullptr ? std::nullopt : std::optional<std::string>(v);
  });
  if (!config.ok()) {
    if (absl::IsNotFound(config.status())) {
      std::fputs(std::string(config.status().message()).c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "stepledger-collector: %s\n",
                 std::string(config.status().message()).c_str());
    return 64;
  }
  for (const std::string& warning : stepledger::config::Warnings(*config)) {
    stepledger::log::Warn(warning);
  }
  return stepledger::app::Run(*config);
}
