// Who is calling, as established from the credential (never from a request field): the key or
// certificate, its roles and its scopes. Immutable once built; shared by pointer between the
// key cache and the calls that use it.
#ifndef STEPLEDGER_SERVER_DOMAIN_AUTH_PRINCIPAL_H_
#define STEPLEDGER_SERVER_DOMAIN_AUTH_PRINCIPAL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/domain/auth/role.h"
#include "server/domain/auth/scopes.h"

namespace stepledger::domain::auth {

struct Principal {
  std::string key_id;  // The key's public id, or "" when the identity is a certificate.
  std::string name;    // The key's name, or the certificate's subject.
  RoleSet roles = 0;
  Scopes scopes;
  // The credential's own ingest rate (events per second); unset: --ingest-rate-limit's.
  std::optional<int64_t> ingest_rate;

  bool Has(Role role) const { return (roles & Bit(role)) != 0; }
  // What audit rows record: "key:<name>/<id>" or "cert:<subject>".
  std::string Identity() const {
    return key_id.empty() ? absl::StrCat("cert:", name) : absl::StrCat("key:", name, "/", key_id);
  }
};

}  // namespace stepledger::domain::auth

#endif  // STEPLEDGER_SERVER_DOMAIN_AUTH_PRINCIPAL_H_
