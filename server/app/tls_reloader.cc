#include "server/app/tls_reloader.h"

#include "server/common/log.h"

namespace stepledger::app {

void TlsReloader::Reload(std::string_view trigger) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<transport::TlsCertificateInfo>> reloaded = certificates_->Reload();
  const bool asked = trigger == "SIGHUP";
  if (!reloaded.ok()) {
    const std::string error(reloaded.status().message());
    if (asked || error != last_error_) {
      log::Warn("TLS certificate not reloaded; the last good one is still served",
                {{"trigger", std::string(trigger)}, {"error", error}});
    }
    last_error_ = error;
    return;
  }
  last_error_.clear();
  if (reloaded->has_value()) {
    log::Info("TLS certificate reloaded: new connections get it, open ones keep theirs",
              {{"trigger", std::string(trigger)},
               {"subject", (*reloaded)->subject},
               {"not_after", (*reloaded)->not_after}});
  } else if (asked) {
    log::Info("TLS certificate unchanged",
              {{"trigger", std::string(trigger)}, {"subject", certificates_->served().subject}});
  }
}

}  // namespace stepledger::app
