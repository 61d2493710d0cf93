// Authorizer: who is calling (from the credential, never from a request field) and whether
// they may call this method, for every gRPC method and OTLP/HTTP (docs/SECURITY.md).
//
// The credential is an API key sent as `authorization: Bearer slk_...` metadata (an HTTP
// header for OTLP/HTTP) or, when the collector runs with --tls-client-ca, a verified client
// certificate whose subject is a stored certificate identity. A key, when sent, wins.
// Answers: UNAUTHENTICATED for no or an invalid credential; PERMISSION_DENIED for a valid one
// that the role x method table (domain/auth/method_policy.h) does not allow. Messages never
// contain the token.
//
// Every service method calls Authorize() first with its own path; the per-request scope checks
// the table names (per event, request tags, cap key, filtered answers) follow in the service.
//
// Thread safety: const and thread-safe; the KeyRing it reads is refreshed concurrently.
#ifndef STEPLEDGER_SERVER_TRANSPORT_AUTHORIZER_H_
#define STEPLEDGER_SERVER_TRANSPORT_AUTHORIZER_H_

#include <grpcpp/server_context.h>

#include <string_view>

#include "absl/status/statusor.h"
#include "server/security/key_ring.h"

namespace stepledger::transport {

using security::PrincipalPtr;

class Authorizer {
 public:
  // REQUIRES: `keys` outlives the authorizer.
  explicit Authorizer(const security::KeyRing& keys);
  // --insecure-no-auth: every caller is an unrestricted admin named "insecure-no-auth".
  static Authorizer NoAuth();

  absl::StatusOr<PrincipalPtr> Authorize(const grpc::ServerContextBase& context,
                                         std::string_view method) const;
  // OTLP/HTTP: the Authorization header's value ("" when absent).
  absl::StatusOr<PrincipalPtr> AuthorizeHeader(std::string_view authorization,
                                               std::string_view method) const;

 private:
  Authorizer(const security::KeyRing* keys, PrincipalPtr everyone);
  absl::StatusOr<PrincipalPtr> Permit(absl::StatusOr<PrincipalPtr> principal,
                                      std::string_view method) const;

  const security::KeyRing* keys_;  // Null only in NoAuth mode.
  PrincipalPtr everyone_;          // Set only in NoAuth mode.
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_AUTHORIZER_H_
