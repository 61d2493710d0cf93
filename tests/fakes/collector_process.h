// Starts a real stepledger-collector process for e2e tests and stops it with SIGTERM.
// Ports are picked by binding port 0 and releasing it just before the collector takes it.
#ifndef STEPLEDGER_TESTS_FAKES_COLLECTOR_PROCESS_H_
#define STEPLEDGER_TESTS_FAKES_COLLECTOR_PROCESS_H_

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace stepledger::testing {

// One admin API key per test process (docs/SECURITY.md), exported as STEPLEDGER_API_KEY so
// that channels made by client/lib and CLI processes started from the test authenticate.
inline const std::string& TestAdminKey() {
  static const std::string* const kKey = [] {
    std::random_device rd;
    auto hex = [&](int n) {
      std::string out;
      for (int i = 0; i < n; ++i) out.push_back("0123456789abcdef"[rd() % 16]);
      return out;
    };
    auto* key = new std::string("slk_" + hex(16) + "_" + hex(64));
    setenv("STEPLEDGER_API_KEY", key->c_str(), 1);
    return key;
  }();
  return *kKey;
}

inline std::string AdminKeyFile() {
  const std::string path = "/tmp/stepledger-e2e-admin-" + std::to_string(getpid()) + ".key";
  std::ofstream(path) << TestAdminKey() << "\n";
  return path;
}

inline int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

class CollectorProcess {
 public:
  CollectorProcess(std::string database_url, std::vector<std::string> extra_flags = {})
      : database_url_(std::move(database_url)), extra_flags_(std::move(extra_flags)) {
    grpc_port_ = PickFreePort();
    metrics_port_ = PickFreePort();
    otlp_http_port_ = PickFreePort();
    log_path_ = "/tmp/stepledger-e2e-collector-" + std::to_string(getpid()) + "-" +
                std::to_string(grpc_port_) + ".log";
  }
  ~CollectorProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Starts the process and waits until its gRPC port accepts TCP connections (a plaintext
  // gRPC channel would never become ready against a TLS listener).
  bool Start(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::vector<std::string> args = {
        STEPLEDGER_COLLECTOR_BIN, "--database-url=" + database_url_,
        "--grpc-listen=127.0.0.1:" + std::to_string(grpc_port_),
        "--metrics-listen=127.0.0.1:" + std::to_string(metrics_port_),
        "--otlp-http-listen=127.0.0.1:" + std::to_string(otlp_http_port_),
        // Plaintext on loopback, with keys: the test process's admin key is stored at the first
        // start against a database and sent by every client-library channel and CLI run from
        // this process (STEPLEDGER_API_KEY). A test opts out with --insecure-no-auth.
        "--insecure", "--bootstrap-admin-key-file=" + AdminKeyFile()};
    for (const auto& f : extra_flags_) args.push_back(f);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    // Children must not inherit a blocked SIGTERM from test threads.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    const int rc = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return false;
    const auto deadline = std::chrono::system_clock::now() + timeout;
    while (std::chrono::system_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (Accepts()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // SIGTERM, then waits; returns the exit code (or -signal when killed by one).
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
  }

  // Sends `signal` (e.g. SIGHUP: reload) to the running collector.
  bool Signal(int signal) const { return pid_ > 0 && kill(pid_, signal) == 0; }

  std::string target() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  int metrics_port() const { return metrics_port_; }
  int otlp_http_port() const { return otlp_http_port_; }
  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  bool Accepts() const {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(grpc_port_));
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    return ok;
  }

  std::string database_url_;
  std::vector<std::string> extra_flags_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int otlp_http_port_ = 0;
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_COLLECTOR_PROCESS_H_
