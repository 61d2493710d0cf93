// The gRPC listener's TLS credentials, from PEM files the collector re-reads on demand: at once
// on SIGHUP (`systemctl reload`) and, as a fallback, every --tls-reload-interval when the
// files changed. A renewed certificate is served to new connections without a restart; the
// connections already open, and the streams on them, keep the session they have.
//
// How: gRPC's SSL server credentials ask a certificate "fetcher" for the current pair before
// every new handshake; TlsCertificates answers "unchanged" until Reload() has read a new,
// valid pair, and then hands it over once. (gRPC 1.51's FileWatcherCertificateProvider only
// polls on its own timer and cannot be told to reload now.)
//
// The files are checked at Load(): a wrong path or a key that does not belong to the
// certificate stops the collector with a clear error instead of failing every handshake later.
// After start a broken replacement is refused by Reload() (logged by the caller) and the last
// good pair stays served. Errors name the file, never its content (the key file is secret).
//
// Thread safety: Reload() and the fetcher may run concurrently on any threads.
// Lifetime: the credentials returned by ServerCredentials() hold a reference to this object.
#ifndef STEPLEDGER_SERVER_TRANSPORT_SERVER_CREDENTIALS_H_
#define STEPLEDGER_SERVER_TRANSPORT_SERVER_CREDENTIALS_H_

#include <grpc/grpc_security.h>
#include <grpcpp/security/server_credentials.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace stepledger::transport {

struct TlsFiles {
  std::string cert_path;       // PEM certificate chain, leaf first
  std::string key_path;        // PEM private key of the leaf
  std::string client_ca_path;  // "" = no client certificates asked for
};

// What a loaded pair is, for the log: never the key.
struct TlsCertificateInfo {
  std::string subject;    // of the leaf, e.g. "CN=collector.example"
  std::string not_after;  // e.g. "Dec  6 00:00:00 2027 GMT"
};

class TlsCertificates : public std::enable_shared_from_this<TlsCertificates> {
 public:
  // InvalidArgument naming the file when one cannot be read or parsed, or when the key does not
  // match the certificate.
  static absl::StatusOr<std::shared_ptr<TlsCertificates>> Load(TlsFiles files);

  // Re-reads the files. Returns the new pair's description when they changed (new handshakes
  // get them from now on), nullopt when nothing changed, or the error (the old pair stays
  // served).
  absl::StatusOr<std::optional<TlsCertificateInfo>> Reload() ABSL_LOCKS_EXCLUDED(mu_);

  TlsCertificateInfo served() const ABSL_LOCKS_EXCLUDED(mu_);

  // TLS 1.2 or later (gRPC's minimum), client certificates asked for (and verified when sent)
  // only with a client CA. Call once.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials();

 private:
  struct Pem {
    std::string cert;
    std::string key;
    std::string client_ca;
    bool operator==(const Pem&) const = default;
  };
  explicit TlsCertificates(TlsFiles files) : files_(std::move(files)) {}
  // Reads and checks the three files.
  static absl::StatusOr<std::pair<Pem, TlsCertificateInfo>> Read(const TlsFiles& files);
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* self, grpc_ssl_server_certificate_config** config);

  const TlsFiles files_;
  mutable absl::Mutex mu_;
  Pem pem_ ABSL_GUARDED_BY(mu_);
  TlsCertificateInfo info_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;         // bumped by every new pair
  uint64_t served_generation_ ABSL_GUARDED_BY(mu_) = 0;  // the one gRPC has
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_SERVER_CREDENTIALS_H_
