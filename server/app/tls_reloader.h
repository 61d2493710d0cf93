// TlsReloader: re-reads the gRPC listener's certificate files and says so in the log, on
// SIGHUP (`systemctl reload`) and on the --tls-reload-interval timer (docs/SECURITY.md,
// "Transport"). A new pair is served to new connections at once; open connections and their
// streams keep their session. A broken replacement is logged and the last good pair stays.
//
// Thread safety: Reload() may be called from the signal loop and the timer at the same time.
#ifndef STEPLEDGER_SERVER_APP_TLS_RELOADER_H_
#define STEPLEDGER_SERVER_APP_TLS_RELOADER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/transport/server_credentials.h"

namespace stepledger::app {

class TlsReloader {
 public:
  explicit TlsReloader(std::shared_ptr<transport::TlsCertificates> certificates)
      : certificates_(std::move(certificates)) {}

  // `trigger` names what asked ("SIGHUP", "timer"). SIGHUP always logs the outcome; the timer
  // logs a change, and a failure only when it differs from the last one it logged (a file
  // left broken is not reported every interval).
  void Reload(std::string_view trigger) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const std::shared_ptr<transport::TlsCertificates> certificates_;
  absl::Mutex mu_;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_TLS_RELOADER_H_
