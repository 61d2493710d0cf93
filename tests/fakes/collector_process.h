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
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/lib/credentials.h"
#include "gtest/gtest.h"

extern char** environ;

namespace stepledger::testing {

inline std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The TLS files and admin key of every collector the e2e tests start (docs/SECURITY.md,
// "Tests"): a test CA (ca.pem), a server certificate for 127.0.0.1 and localhost
// (server.pem, server.key) and an admin key (admin.key), made once per ctest run by
// deploy/local/test.sh with deploy/local/security.sh. The first call exports
// STEPLEDGER_CA_CERT and STEPLEDGER_API_KEY, so that every client-library channel and every
// CLI run from the test process uses TLS and the admin key. Without the directory (tests not
// run through test.sh) it fails the test, as a missing database does.
inline const std::string& TestSecurityDir() {
  static const std::string* const kDir = [] {
    const char* env = std::getenv("STEPLEDGER_TEST_SECURITY_DIR");
    auto* dir = new std::string(env == nullptr ? "" : env);
    if (dir->empty() || ReadFirstLine(*dir + "/admin.key").empty()) {
      ADD_FAILURE() << "STEPLEDGER_TEST_SECURITY_DIR does not name the test CA, certificate and"
                       " admin key: run the tests through `make test` (deploy/local/test.sh)";
      return dir;
    }
    setenv("STEPLEDGER_CA_CERT", (*dir + "/ca.pem").c_str(), 1);
    setenv("STEPLEDGER_API_KEY", ReadFirstLine(*dir + "/admin.key").c_str(), 1);
    return dir;
  }();
  return *kDir;
}

// The admin key: bootstrapped into each test database at the collector's first start.
inline std::string TestAdminKey() { return ReadFirstLine(TestSecurityDir() + "/admin.key"); }
inline std::string AdminKeyFile() { return TestSecurityDir() + "/admin.key"; }
// The CA that signed the collectors' certificate.
inline std::string TestCaCert() { return TestSecurityDir() + "/ca.pem"; }

// A TLS channel to `target` that trusts the test CA and sends no key: for calls that carry a
// key the test chose per call (or none).
inline std::shared_ptr<grpc::Channel> ChannelWithoutKey(const std::string& target) {
  client::ConnectionOptions options;
  options.ca_cert_path = TestCaCert();
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
      client::CollectorCredentials(options);
  EXPECT_TRUE(creds.ok()) << creds.status();
  return grpc::CreateChannel(target, creds.ok() ? *creds : grpc::InsecureChannelCredentials());
}

// Flags (after the harness's own, so they win) for a collector serving plaintext on loopback:
// only for the test of the insecure mode's restrictions (TlsE2eTest).
inline std::vector<std::string> PlaintextFlags() {
  return {"--tls-cert=", "--tls-key=", "--insecure"};
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
    TestSecurityDir();  // exports the client environment before the test makes channels
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

  // Starts the process and waits until its gRPC port accepts TCP connections (a channel with
  // the wrong security would never become ready).
  bool Start(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::vector<std::string> args = {
        STEPLEDGER_COLLECTOR_BIN, "--database-url=" + database_url_,
        "--grpc-listen=127.0.0.1:" + std::to_string(grpc_port_),
        "--metrics-listen=127.0.0.1:" + std::to_string(metrics_port_),
        "--otlp-http-listen=127.0.0.1:" + std::to_string(otlp_http_port_),
        // TLS with keys, as in production: the admin key is stored at the first start against
        // a database and sent by every client-library channel and CLI run from this process.
        "--tls-cert=" + TestSecurityDir() + "/server.pem",
        "--tls-key=" + TestSecurityDir() + "/server.key",
        "--bootstrap-admin-key-file=" + AdminKeyFile()};
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
