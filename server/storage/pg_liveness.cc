#include "server/storage/pg_liveness.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace stepledger::storage {
namespace {

PGconn* AsConn(void* p) { return static_cast<PGconn*>(p); }

// Waits until `fd` is ready for `events` or `deadline` passes; false on the deadline.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd p{.fd = fd, .events = events, .revents = 0};
    const int rc = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let libpq report the socket's error
  }
}

}  // namespace

ConnectionRegistry& ConnectionRegistry::Global() {
  static ConnectionRegistry* const kRegistry = new ConnectionRegistry();
  return *kRegistry;
}

int64_t ConnectionRegistry::Add(int socket_dup, std::string server, std::string probe_conninfo) {
  absl::MutexLock lock(&mu_);
  const int64_t id = next_id_++;
  entries_.emplace(id, Entry{socket_dup, std::move(server), std::move(probe_conninfo)});
  return id;
}

void ConnectionRegistry::Remove(int64_t registration) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(registration);
  if (it == entries_.end()) return;
  if (it->second.socket_dup >= 0) close(it->second.socket_dup);
  entries_.erase(it);
}

std::vector<ConnectionRegistry::Server> ConnectionRegistry::Servers() const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, Server> by_server;
  for (const auto& [id, e] : entries_) {
    if (e.cut) continue;
    Server& s = by_server[e.server];
    s.server = e.server;
    s.probe_conninfo = e.probe_conninfo;
    ++s.connections;
  }
  std::vector<Server> out;
  for (auto& [name, s] : by_server) out.push_back(std::move(s));
  return out;
}

int ConnectionRegistry::CutServer(const std::string& server) {
  absl::MutexLock lock(&mu_);
  int cut = 0;
  for (auto& [id, e] : entries_) {
    if (e.server != server || e.cut) continue;
    // Under mu_, so the duplicate cannot be closed (and its number reused) meanwhile.
    shutdown(e.socket_dup, SHUT_RDWR);
    e.cut = true;
    ++cut;
  }
  return cut;
}

bool ConnectionRegistry::ServerChanged(const std::string& server, std::string* previous) {
  absl::MutexLock lock(&mu_);
  if (server == last_server_) return false;
  *previous = std::exchange(last_server_, server);
  return true;
}

LivenessWatchdog::LivenessWatchdog(ConnectionRegistry& registry, Options options)
    : registry_(registry), options_(options), thread_([this] { Loop(); }) {}

LivenessWatchdog::~LivenessWatchdog() {
  stop_.Notify();
  thread_.join();
  for (auto& [server, conn] : probes_) PQfinish(AsConn(conn));
}

void LivenessWatchdog::Loop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.interval)) {
    const std::vector<ConnectionRegistry::Server> servers = registry_.Servers();
    // Probes of servers no connection uses any more are closed.
    for (auto it = probes_.begin(); it != probes_.end();) {
      bool used = false;
      for (const auto& s : servers) used = used || s.server == it->first;
      if (used) {
        ++it;
      } else {
        PQfinish(AsConn(it->second));
        it = probes_.erase(it);
      }
    }
    for (const auto& server : servers) {
      if (stop_.HasBeenNotified()) return;
      if (Probe(server) != ProbeResult::kSilent) continue;
      DropProbe(server.server);
      const int cut = registry_.CutServer(server.server);
      log::Warn("database server did not answer; its connections are cut and will reconnect",
                {{"server", server.server},
                 {"timeout", absl::FormatDuration(options_.timeout)},
                 {"connections", absl::StrCat(cut)}});
    }
  }
}

LivenessWatchdog::ProbeResult LivenessWatchdog::Probe(const ConnectionRegistry::Server& server) {
  const absl::Time deadline = absl::Now() + options_.timeout;
  auto it = probes_.find(server.server);
  if (it == probes_.end()) {
    // Non-blocking connect: libpq's connect_timeout does not apply to PQconnectPoll, and a
    // frozen server accepts the TCP connection (its kernel does) but never answers startup.
    PGconn* conn = PQconnectStart(server.probe_conninfo.c_str());
    if (conn == nullptr) return ProbeResult::kRefused;
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    while (state != PGRES_POLLING_OK) {
      if (state == PGRES_POLLING_FAILED || PQstatus(conn) == CONNECTION_BAD) {
        PQfinish(conn);
        return ProbeResult::kRefused;
      }
      const short events = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
      if (!WaitFor(PQsocket(conn), events, deadline)) {
        PQfinish(conn);
        return ProbeResult::kSilent;
      }
      state = PQconnectPoll(conn);
    }
    if (PQsetnonblocking(conn, 1) != 0) {
      PQfinish(conn);
      return ProbeResult::kRefused;
    }
    it = probes_.emplace(server.server, conn).first;
  }
  PGconn* conn = AsConn(it->second);
  if (PQsendQuery(conn, "SELECT 1") != 1) {
    DropProbe(server.server);
    return ProbeResult::kRefused;
  }
  // A query this small fits the socket buffer; flush anyway, a full buffer is silence too.
  while (PQflush(conn) == 1) {
    if (!WaitFor(PQsocket(conn), POLLOUT, deadline)) return ProbeResult::kSilent;
  }
  while (true) {
    if (PQconsumeInput(conn) != 1) {
      DropProbe(server.server);
      return ProbeResult::kRefused;
    }
    if (!PQisBusy(conn)) break;
    if (!WaitFor(PQsocket(conn), POLLIN, deadline)) return ProbeResult::kSilent;
  }
  bool ok = true;
  while (PGresult* r = PQgetResult(conn)) {
    ok = ok && PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
  }
  if (!ok) DropProbe(server.server);
  return ok ? ProbeResult::kAnswered : ProbeResult::kRefused;
}

void LivenessWatchdog::DropProbe(const std::string& server) {
  auto it = probes_.find(server);
  if (it == probes_.end()) return;
  PGconn* conn = AsConn(it->second);
  // A silent server would never read the Terminate message PQfinish sends: cut the socket
  // first so that PQfinish cannot wait on it.
  if (PQsocket(conn) >= 0) shutdown(PQsocket(conn), SHUT_RDWR);
  PQfinish(conn);
  probes_.erase(it);
}

}  // namespace stepledger::storage
