// API keys and certificate identities as stored (docs/SECURITY.md, "Key lifecycle"), and the
// port to where they are stored. A key's secret is never stored: only its SHA-256. Rows are
// never deleted: a revoked or expired key stays, as the record of who held it.
#ifndef STEPLEDGER_SERVER_DOMAIN_AUTH_KEY_REPOSITORY_H_
#define STEPLEDGER_SERVER_DOMAIN_AUTH_KEY_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace stepledger::domain::auth {

struct KeyRecord {
  std::string id;             // Public; the key's token starts with it. Unique.
  std::string name;           // Who or what holds it, e.g. "gateway-prod".
  std::string secret_sha256;  // 32 raw bytes; "" for a certificate identity.
  std::string cert_subject;   // A client certificate's subject instead of a secret.
  std::vector<std::string> roles;
  std::vector<std::string> scopes;
  absl::Time created_at;
  std::string created_by;  // The identity that created it.
  std::optional<absl::Time> expires_at;
  std::optional<absl::Time> revoked_at;
  std::string revoked_by;
  std::string replaces;  // The id of the key this one rotated, if any.
  std::string note;
  // Events per second this key may ingest, instead of --ingest-rate-limit; unset: the flag's.
  std::optional<int64_t> ingest_rate;

  bool ActiveAt(absl::Time now) const {
    return !revoked_at.has_value() && (!expires_at.has_value() || *expires_at > now);
  }
};

// Every method is one transaction that also writes the key_audit row naming `actor`.
// Thread-safe.
class KeyRepository {
 public:
  virtual ~KeyRepository() = default;
  virtual absl::StatusOr<std::vector<KeyRecord>> LoadKeys() = 0;
  // AlreadyExists when the id or the certificate subject is taken.
  virtual absl::Status CreateKey(const KeyRecord& key, std::string_view actor) = 0;
  // NotFound; FailedPrecondition when already revoked.
  virtual absl::StatusOr<KeyRecord> RevokeKey(std::string_view id, std::string_view actor,
                                              std::string_view note) = 0;
  // Stores `replacement` and makes `old_id` expire at `old_expires_at` (or keeps an earlier
  // expiry). NotFound; FailedPrecondition when the old key is revoked.
  virtual absl::Status RotateKey(std::string_view old_id, absl::Time old_expires_at,
                                 const KeyRecord& replacement, std::string_view actor) = 0;
  // The bootstrap: stores `key` only when no key is stored at all. Whether it did.
  virtual absl::StatusOr<bool> CreateFirstKey(const KeyRecord& key) = 0;
};

}  // namespace stepledger::domain::auth

#endif  // STEPLEDGER_SERVER_DOMAIN_AUTH_KEY_REPOSITORY_H_
