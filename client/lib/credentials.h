// How a client reaches the collector securely (docs/SECURITY.md): TLS verifying the
// collector's certificate against a CA file, optionally a client certificate (mTLS), and an
// API key sent as `authorization: Bearer <key>` on every call. Plaintext (the collector's
// --insecure mode, loopback only) when no CA is given.
//
// Every channel the library makes (MakeCollectorChannel, RunShow, SendAll) takes these from
// the environment, as the `stepledger` CLI documents:
//   STEPLEDGER_CA_CERT      PEM CA file: TLS on; "" = plaintext
//   STEPLEDGER_API_KEY      the key itself (or STEPLEDGER_API_KEY_FILE: a file holding it)
//   STEPLEDGER_CLIENT_CERT, STEPLEDGER_CLIENT_KEY   PEM client certificate and key (mTLS)
// Keys are never taken from command-line flags: argv is readable by every local user.
#ifndef STEPLEDGER_CLIENT_LIB_CREDENTIALS_H_
#define STEPLEDGER_CLIENT_LIB_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace stepledger::client {

struct ConnectionOptions {
  std::string ca_cert_path;  // "" = plaintext
  std::string client_cert_path;
  std::string client_key_path;
  std::string api_key;  // "" = none sent
};

// From the variables above. InvalidArgument naming the variable when a file cannot be read.
absl::StatusOr<ConnectionOptions> ConnectionOptionsFromEnvironment();

// The channel credentials for `options` (TLS files are read here). InvalidArgument naming the
// file when one cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> CollectorCredentials(
    const ConnectionOptions& options);

// CollectorCredentials(ConnectionOptionsFromEnvironment()); on an error, credentials whose
// every call fails with UNAUTHENTICATED carrying the error (so the caller sees why).
std::shared_ptr<grpc::ChannelCredentials> CollectorCredentialsFromEnvironment();

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_CREDENTIALS_H_
