#include "server/metrics/metrics_registry.h"

#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"

namespace stepledger::metrics {

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

MetricsRegistry::~MetricsRegistry() = default;

absl::Status MetricsRegistry::Serve(const std::string& listen) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
    exposer_->RegisterCollectable(registry_);
    auto ports = exposer_->GetListeningPorts();
    port_ = ports.empty() ? 0 : ports.front();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics-listen ", listen, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace stepledger::metrics
