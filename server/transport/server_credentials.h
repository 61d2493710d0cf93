// The gRPC listener's credentials: TLS from PEM files the collector keeps re-reading (so a
// renewed certificate is served to new connections without a restart, and open streams keep
// the session they have), or plaintext when the operator asked for it (config.h, --insecure).
//
// The files are checked once here, at start, so that a wrong path or a key that does not
// belong to the certificate stops the collector with a clear error instead of failing every
// handshake later. After start a broken replacement file is ignored by gRPC, which keeps
// serving the last good pair.
#ifndef STEPLEDGER_SERVER_TRANSPORT_SERVER_CREDENTIALS_H_
#define STEPLEDGER_SERVER_TRANSPORT_SERVER_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace stepledger::transport {

struct TlsFiles {
  std::string cert_path;       // PEM certificate chain, leaf first
  std::string key_path;        // PEM private key of the leaf
  std::string client_ca_path;  // "" = no client certificates asked for
  absl::Duration reload_interval = absl::Seconds(2);
};

// InvalidArgument naming the file when one cannot be read or parsed, or when the key does not
// match the certificate.
absl::Status CheckTlsFiles(const TlsFiles& files);

// REQUIRES: CheckTlsFiles(files) is OK.
std::shared_ptr<grpc::ServerCredentials> TlsServerCredentialsFromFiles(const TlsFiles& files);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_SERVER_CREDENTIALS_H_
