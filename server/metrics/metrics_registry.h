// The process's Prometheus registry and its /metrics endpoint.
//
// Thread safety: construct once in app/; the registry is thread-safe (prometheus-cpp).
#ifndef STEPLEDGER_SERVER_METRICS_METRICS_REGISTRY_H_
#define STEPLEDGER_SERVER_METRICS_METRICS_REGISTRY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prometheus {
class Registry;
class Exposer;
}  // namespace prometheus

namespace stepledger::metrics {

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  // Starts serving /metrics on `listen` ("127.0.0.1:9464"). Port 0 picks a free port.
  absl::Status Serve(const std::string& listen);
  // The bound port once serving.
  int port() const { return port_; }

  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_METRICS_REGISTRY_H_
