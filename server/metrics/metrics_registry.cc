#include "server/metrics/metrics_registry.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <array>

#include "absl/strings/str_cat.h"

namespace stepledger::metrics {
namespace {

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest Sha256(const std::string& s) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

}  // namespace

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}

MetricsRegistry::~MetricsRegistry() = default;

absl::Status MetricsRegistry::Serve(const MetricsEndpoint& endpoint) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(endpoint.listen, /*num_threads=*/1);
    exposer_->RegisterCollectable(registry_);
    if (!endpoint.basic_auth_user.empty()) {
      const Digest want_user = Sha256(endpoint.basic_auth_user);
      const Digest want_password = Sha256(endpoint.basic_auth_password);
      exposer_->RegisterAuth(
          [want_user, want_password](const std::string& user, const std::string& password) {
            // Both compared, in constant time, whatever the first gives.
            const Digest u = Sha256(user);
            const Digest p = Sha256(password);
            const bool user_ok = CRYPTO_memcmp(u.data(), want_user.data(), u.size()) == 0;
            const bool password_ok = CRYPTO_memcmp(p.data(), want_password.data(), p.size()) == 0;
            return user_ok && password_ok;
          },
          "stepledger metrics");
    }
    auto ports = exposer_->GetListeningPorts();
    port_ = ports.empty() ? 0 : ports.front();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics-listen ", endpoint.listen, ": ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace stepledger::metrics
