// KeyAdmin: the key lifecycle use cases behind the Keys RPCs (docs/SECURITY.md, "Key
// lifecycle"): create (the token is returned once, never stored), list, rotate (a new key with
// the same name, roles, scopes and ingest rate; the old one keeps working for a grace period),
// revoke, and
// the bootstrap of the first admin key. Each change is audited with the acting identity in the
// same transaction (the repository's contract) and refreshes the local KeyRing at once.
//
// Thread safety: all methods may be called concurrently.
#ifndef STEPLEDGER_SERVER_SECURITY_KEY_ADMIN_H_
#define STEPLEDGER_SERVER_SECURITY_KEY_ADMIN_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/auth/key_repository.h"
#include "server/domain/auth/principal.h"
#include "server/domain/clock.h"
#include "server/security/key_ring.h"

namespace stepledger::security {

struct NewKey {
  std::string name;
  std::vector<std::string> roles;
  std::vector<std::string> scopes;
  std::string cert_subject;  // Set: a certificate identity, no token.
  std::optional<absl::Time> expires_at;
  std::string note;
  // Events per second this key may ingest, instead of --ingest-rate-limit (1..10,000,000).
  std::optional<int64_t> ingest_rate;
};

// The largest per-key ingest rate (events per second).
inline constexpr int64_t kMaxKeyIngestRate = 10'000'000;

struct CreatedKey {
  domain::auth::KeyRecord record;
  std::string token;  // The whole key, shown once; "" for a certificate identity.
};

// The longest grace a rotation gives the old key.
inline constexpr absl::Duration kMaxRotationGrace = absl::Hours(24 * 30);

class KeyAdmin {
 public:
  // REQUIRES: all references outlive this object.
  KeyAdmin(domain::auth::KeyRepository& repository, KeyRing& ring, const domain::Clock& clock);

  // InvalidArgument naming the field (name, roles, scopes, expires_at, cert_subject).
  absl::StatusOr<CreatedKey> Create(const NewKey& key, const domain::auth::Principal& actor);
  absl::StatusOr<std::vector<domain::auth::KeyRecord>> List();
  absl::StatusOr<CreatedKey> Rotate(std::string_view id, absl::Duration grace,
                                    std::string_view note, const domain::auth::Principal& actor);
  absl::StatusOr<domain::auth::KeyRecord> Revoke(std::string_view id, std::string_view note,
                                                 const domain::auth::Principal& actor);

  // Stores `token` as an admin key with the "*" scope when no key is stored yet. Whether it
  // did. InvalidArgument when the token is not a key (the message does not repeat it).
  absl::StatusOr<bool> Bootstrap(std::string_view token);

 private:
  domain::auth::KeyRepository& repository_;
  KeyRing& ring_;
  const domain::Clock& clock_;
};

}  // namespace stepledger::security

#endif  // STEPLEDGER_SERVER_SECURITY_KEY_ADMIN_H_
