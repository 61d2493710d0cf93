// The process's Prometheus registry and its /metrics endpoint.
//
// The endpoint is served by prometheus-cpp's civetweb exposer, in plaintext (on a loopback
// address unless the operator says otherwise, config.h), with HTTP basic auth when asked for,
// as a Prometheus scrape config can send it (basic_auth). Not over TLS: Debian's civetweb
// loads OpenSSL at run time by the 1.1 function names and crashes in the first handshake with
// OpenSSL 3; docs/SECURITY.md, "Metrics", says how to scrape across a network.
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

struct MetricsEndpoint {
  std::string listen;  // "127.0.0.1:9464"; port 0 picks a free port
  // Basic auth: a scrape must send this user and password; "" = none. The password is kept
  // only as its SHA-256 and compared in constant time.
  std::string basic_auth_user;
  std::string basic_auth_password;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();

  // Starts serving /metrics. Unavailable when the address cannot be bound (the message names
  // the address, never the password).
  absl::Status Serve(const MetricsEndpoint& endpoint);
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
