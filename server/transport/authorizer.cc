#include "server/transport/authorizer.h"

#include <grpc/grpc_security_constants.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "server/domain/auth/method_policy.h"

namespace stepledger::transport {
namespace {

// The token after "Bearer " (scheme case-insensitive, as HTTP has it); "" when there is none.
std::string_view BearerToken(std::string_view value) {
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      absl::AsciiStrToLower(std::string(value.substr(0, kScheme.size()))) != kScheme) {
    return {};
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

absl::Status NoCredential() {
  return absl::UnauthenticatedError(
      "no credential: send an API key as `authorization: Bearer <key>` (docs/SECURITY.md)");
}

}  // namespace

Authorizer::Authorizer(const security::KeyRing& keys) : Authorizer(&keys, nullptr) {}

Authorizer::Authorizer(const security::KeyRing* keys, PrincipalPtr everyone)
    : keys_(keys), everyone_(std::move(everyone)) {}

Authorizer Authorizer::NoAuth() {
  return Authorizer(
      nullptr, std::make_shared<const domain::auth::Principal>(
                   domain::auth::Principal{.key_id = "none",
                                           .name = "insecure-no-auth",
                                           .roles = domain::auth::Bit(domain::auth::Role::kAdmin),
                                           .scopes = domain::auth::Scopes::All()}));
}

absl::StatusOr<PrincipalPtr> Authorizer::Permit(absl::StatusOr<PrincipalPtr> principal,
                                                std::string_view method) const {
  if (!principal.ok()) return principal.status();
  if (absl::Status s = domain::auth::Permit(**principal, method); !s.ok()) return s;
  return principal;
}

absl::StatusOr<PrincipalPtr> Authorizer::Authorize(const grpc::ServerContextBase& context,
                                                   std::string_view method) const {
  if (keys_ == nullptr) return Permit(everyone_, method);
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it != metadata.end()) {
    const std::string_view token =
        BearerToken(std::string_view(it->second.data(), it->second.size()));
    if (token.empty()) return NoCredential();
    return Permit(keys_->Authenticate(token), method);
  }
  // A verified client certificate (only with --tls-client-ca: otherwise none is asked for).
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const grpc::string_ref& subject :
         auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
      return Permit(
          keys_->AuthenticateCertificate(std::string_view(subject.data(), subject.size())), method);
    }
  }
  return NoCredential();
}

absl::StatusOr<PrincipalPtr> Authorizer::AuthorizeHeader(std::string_view authorization,
                                                         std::string_view method) const {
  if (keys_ == nullptr) return Permit(everyone_, method);
  const std::string_view token = BearerToken(authorization);
  if (token.empty()) return NoCredential();
  return Permit(keys_->Authenticate(token), method);
}

}  // namespace stepledger::transport
