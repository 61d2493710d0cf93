// PgConnection: the one way the collector opens a PostgreSQL connection (docs/OPERATING.md,
// "PostgreSQL failover").
//
// Every connection gets the collector's network defaults for what its URL leaves unset
// (ConnectionStringWithDefaults), so that neither a connect nor an idle or busy connection to
// a vanished host waits on the kernel's defaults (minutes to hours). It also registers its
// socket with the process's ConnectionRegistry (pg_liveness.h), so that the liveness watchdog
// can cut it when its server stops answering while the kernel still ACKs (a frozen host, a
// partition that leaves TCP alive), and says in the log which host:port it reached.
//
// A URL may name several hosts (postgresql://h1:5432,h2:5432/db?target_session_attrs=
// read-write): libpq tries them in order and keeps the first that fits.
//
// Thread safety: as pqxx::connection (one thread at a time); the registry is thread-safe.
// libpqxx's silent reconnection is off: a broken PgConnection stays broken, its owner drops it
// and opens a new one, which is what re-reads the host list and re-registers the socket.
#ifndef STEPLEDGER_SERVER_STORAGE_PG_CONNECTION_H_
#define STEPLEDGER_SERVER_STORAGE_PG_CONNECTION_H_

#include <pqxx/pqxx>
#include <string>
#include <string_view>

namespace stepledger::storage {

// The defaults (a value in the URL wins): seconds, except tcp_user_timeout (milliseconds).
inline constexpr char kDefaultConnectTimeoutSeconds[] = "5";
inline constexpr char kDefaultKeepalivesIdleSeconds[] = "10";
inline constexpr char kDefaultKeepalivesIntervalSeconds[] = "5";
inline constexpr char kDefaultKeepalivesCount[] = "3";
inline constexpr char kDefaultTcpUserTimeoutMillis[] = "15000";

// `url` (a postgresql:// URL or a keyword/value string) as a keyword/value connection string
// with connect_timeout, keepalives, keepalives_idle, keepalives_interval, keepalives_count,
// tcp_user_timeout and fallback_application_name added where unset. A string libpq cannot
// parse comes back unchanged, so that the connect reports libpq's own error about it.
std::string ConnectionStringWithDefaults(const std::string& url);

// `url` with its host list replaced by one host and port and target_session_attrs dropped: how
// the watchdog reaches the very server a connection landed on.
std::string ConnectionStringForServer(const std::string& url, const std::string& host,
                                      const std::string& port);

class PgConnection : public pqxx::connection {
 public:
  // Connects (throws as pqxx::connection does). With a `purpose` (long-lived connections: a
  // writer, the budget store), every connect is logged with the server it reached; without
  // one, only a connect that reaches a different server than the process's previous one.
  explicit PgConnection(const std::string& url, std::string_view purpose = {});
  ~PgConnection();

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // "host:port" of the server this connection reached.
  const std::string& server() const { return server_; }

 private:
  std::string server_;
  int64_t registration_ = 0;
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_CONNECTION_H_
