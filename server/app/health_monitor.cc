#include "server/app/health_monitor.h"

#include <string>
#include <utility>

#include "server/common/log.h"

namespace stepledger::app {

HealthMonitor::HealthMonitor(grpc::HealthCheckServiceInterface* health,
                             std::function<absl::Status()> probe, absl::Duration interval)
    : health_(health), probe_(std::move(probe)), interval_(interval), thread_([this] {
        bool serving = false;
        Check(serving);
        while (!stop_.WaitForNotificationWithTimeout(interval_)) Check(serving);
      }) {}

HealthMonitor::~HealthMonitor() {
  stop_.Notify();
  thread_.join();
}

void HealthMonitor::Check(bool& serving) {
  const absl::Status s = probe_();
  if (s.ok() != serving) {
    serving = s.ok();
    if (serving) {
      log::Info("health: SERVING", {});
    } else {
      log::Warn("health: NOT_SERVING", {{"reason", std::string(s.message())}});
    }
  }
  // Set every time: cheap, and a status set before the server started is applied again.
  health_->SetServingStatus(serving);
}

}  // namespace stepledger::app
