// KeyRing: the keys every call is authenticated against, held in memory and re-read from the
// KeyRepository by Refresh() (the collector calls it every --key-refresh-interval, so a key
// revoked on any replica stops working on every replica within that interval; a change made
// through this replica is visible at once, because the use cases refresh after it).
//
// Authenticate() is on the path of every call: it takes a reader lock, hashes the presented
// secret and compares hashes in constant time. It never logs or returns the token.
//
// Thread safety: all methods may be called concurrently.
#ifndef STEPLEDGER_SERVER_SECURITY_KEY_RING_H_
#define STEPLEDGER_SERVER_SECURITY_KEY_RING_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/auth/key_repository.h"
#include "server/domain/auth/principal.h"
#include "server/domain/clock.h"

namespace stepledger::security {

using PrincipalPtr = std::shared_ptr<const domain::auth::Principal>;

class KeyRing {
 public:
  // REQUIRES: `repository` and `clock` outlive the ring.
  KeyRing(domain::auth::KeyRepository& repository, const domain::Clock& clock);

  // Re-reads every key. On failure the previous keys stay in force (and the error is returned
  // for the caller to log).
  absl::Status Refresh();

  // Unauthenticated (without saying which part failed, beyond "unknown or revoked") for a
  // malformed token, an unknown id, a wrong secret, a revoked or expired key.
  absl::StatusOr<PrincipalPtr> Authenticate(std::string_view token) const;
  // The identity of a verified client certificate's subject; Unauthenticated when no active
  // certificate identity has that subject.
  absl::StatusOr<PrincipalPtr> AuthenticateCertificate(std::string_view subject) const;

  size_t active_keys() const;

 private:
  struct Entry {
    std::string secret_sha256;
    absl::Time expires_at = absl::InfiniteFuture();
    PrincipalPtr principal;
  };
  absl::StatusOr<PrincipalPtr> Check(const Entry* entry) const;

  domain::auth::KeyRepository& repository_;
  const domain::Clock& clock_;
  mutable absl::Mutex mu_;
  // Active (not revoked) keys by id, and certificate identities by subject.
  absl::flat_hash_map<std::string, Entry> by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Entry> by_subject_ ABSL_GUARDED_BY(mu_);
};

// A principal from a stored record; InvalidArgument when its roles or scopes do not parse
// (a record written by a newer collector, say): such a key authenticates nobody.
absl::StatusOr<domain::auth::Principal> PrincipalOf(const domain::auth::KeyRecord& record);

}  // namespace stepledger::security

#endif  // STEPLEDGER_SERVER_SECURITY_KEY_RING_H_
