// Application-level liveness of the PostgreSQL servers the collector is connected to.
//
// Why TCP settings are not enough: keepalives and tcp_user_timeout only fire when the peer's
// kernel stops acknowledging. A server that is frozen (SIGSTOP, a hung host whose network
// stack still answers, a proxy that accepts but stops forwarding) is ACKed by its kernel
// forever, and a writer waiting for COMMIT's answer would wait forever with it.
//
// ConnectionRegistry: every open PgConnection registers a duplicate of its socket and the
// server (host:port) it reached. Process-wide on purpose: connections are opened in a dozen
// places (long-lived stores and per-call jobs), and this is the one place that sees them all,
// like the kernel's table of descriptors.
//
// LivenessWatchdog: every `interval` it asks each server that has registered connections
// `SELECT 1` on a probe connection of its own, opened to that exact host:port. A server that
// does not answer (or accept a probe connection) within `timeout` is declared dead: the
// sockets of all connections to it are shut down (shutdown(2), not close: the descriptor stays
// the owner's), which makes every blocked or future call on them fail as a broken connection
// at once; their owners reconnect through the URL's host list. A server that refuses or closes
// the probe is not declared dead: it is answering, and its own connections see the error.
// Detection bound: a server that stops answering is cut within interval + timeout.
//
// Thread safety: ConnectionRegistry is thread-safe. LivenessWatchdog owns one thread, started
// by the constructor and joined by the destructor.
#ifndef STEPLEDGER_SERVER_STORAGE_PG_LIVENESS_H_
#define STEPLEDGER_SERVER_STORAGE_PG_LIVENESS_H_

#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace stepledger::storage {

class ConnectionRegistry {
 public:
  static ConnectionRegistry& Global();

  // Takes ownership of `socket_dup` (a dup() of the connection's socket). `probe_conninfo`
  // reaches `server` alone. Returns the registration to Remove().
  int64_t Add(int socket_dup, std::string server, std::string probe_conninfo);
  // Closes the duplicate; the connection's own descriptor is untouched.
  void Remove(int64_t registration);

  struct Server {
    std::string server;
    std::string probe_conninfo;
    int connections = 0;
  };
  // Servers with at least one registered connection that has not been cut.
  std::vector<Server> Servers() const;
  // Shuts down the sockets of every connection to `server`; returns how many were cut.
  int CutServer(const std::string& server);

  // Records that a connection reached `server`; true (and the previous server, "" at first)
  // when it differs from the one the process's previous connection reached.
  bool ServerChanged(const std::string& server, std::string* previous);

 private:
  struct Entry {
    int socket_dup;
    std::string server;
    std::string probe_conninfo;
    bool cut = false;
  };
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::string last_server_ ABSL_GUARDED_BY(mu_);
};

class LivenessWatchdog {
 public:
  struct Options {
    absl::Duration interval = absl::Seconds(1);
    absl::Duration timeout = absl::Seconds(10);  // REQUIRES: > 0
  };
  LivenessWatchdog(ConnectionRegistry& registry, Options options);
  ~LivenessWatchdog();

  LivenessWatchdog(const LivenessWatchdog&) = delete;
  LivenessWatchdog& operator=(const LivenessWatchdog&) = delete;

 private:
  enum class ProbeResult { kAnswered, kSilent, kRefused };
  void Loop();
  ProbeResult Probe(const ConnectionRegistry::Server& server);
  void DropProbe(const std::string& server);

  ConnectionRegistry& registry_;
  const Options options_;
  // Probe connections (libpq PGconn*), by server; only the watchdog's thread touches them.
  std::map<std::string, void*> probes_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_LIVENESS_H_
