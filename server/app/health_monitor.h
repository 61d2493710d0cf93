// Keeps grpc.health.v1.Health truthful: SERVING (for the whole server, service "") only while
// `probe` succeeds, i.e. PostgreSQL is reachable and migrated; NOT_SERVING otherwise. Probes
// on its own thread every `interval`, so no gRPC thread ever waits for the database.
//
// Thread safety: the constructor starts the thread, the destructor stops and joins it (call it
// before shutting the server down). Lifetime: `health` (the server's default health service)
// outlives this object.
#ifndef STEPLEDGER_SERVER_APP_HEALTH_MONITOR_H_
#define STEPLEDGER_SERVER_APP_HEALTH_MONITOR_H_

#include <grpcpp/health_check_service_interface.h>

#include <functional>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace stepledger::app {

class HealthMonitor {
 public:
  HealthMonitor(grpc::HealthCheckServiceInterface* health, std::function<absl::Status()> probe,
                absl::Duration interval);
  ~HealthMonitor();

 private:
  void Check(bool& serving);

  grpc::HealthCheckServiceInterface* const health_;
  const std::function<absl::Status()> probe_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_HEALTH_MONITOR_H_
