// LazyPgConnection: one long-lived PostgreSQL connection shared by a store's calls, opened on
// first use and dropped after any failure, so that the next call reconnects (through the URL's
// host list, which is how a store follows a failover; docs/OPERATING.md).
//
// For low-rate stores (budget administration, the once-a-second refresh, the reservation
// flush): calls take turns on the one connection. Hot paths keep their own connections.
//
// Thread safety: thread-safe; Run() holds a mutex for the whole call.
#ifndef STEPLEDGER_SERVER_STORAGE_LAZY_PG_CONNECTION_H_
#define STEPLEDGER_SERVER_STORAGE_LAZY_PG_CONNECTION_H_

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {

class LazyPgConnection {
 public:
  // `purpose` names the connection in the log ("budget store") and in a failed connect's error.
  LazyPgConnection(std::string url, std::string purpose);
  ~LazyPgConnection();

  LazyPgConnection(const LazyPgConnection&) = delete;
  LazyPgConnection& operator=(const LazyPgConnection&) = delete;

  // Runs fn(PgConnection&), which returns absl::Status or absl::StatusOr<T>. An exception
  // becomes the status CurrentExceptionToStatus gives it with `context`; after one, the
  // connection is dropped (its state is unknown) and the next Run opens a new one.
  template <typename Fn>
  std::invoke_result_t<Fn&, PgConnection&> Run(absl::string_view context, Fn&& fn) {
    absl::MutexLock lock(&mu_);
    if (absl::Status opened = OpenIfClosed(); !opened.ok()) return opened;
    try {
      return fn(*conn_);
    } catch (...) {
      conn_.reset();
      return CurrentExceptionToStatus(context);
    }
  }

 private:
  absl::Status OpenIfClosed() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string url_;
  const std::string purpose_;
  absl::Mutex mu_;
  std::unique_ptr<PgConnection> conn_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_LAZY_PG_CONNECTION_H_
