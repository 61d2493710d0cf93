// PgKeyStore: API keys and certificate identities in PostgreSQL (migration 0015), each change
// with its key_audit row in the same transaction.
//
// Connections: LoadKeys() runs every --key-refresh-interval on every replica, so it keeps one
// connection (re-opened after a failure); the changes, which are rare, open their own.
// Thread safety: every method may be called from any thread.
// libpqxx exceptions never leave this class: they become absl::Status (pg_status.h).
#ifndef STEPLEDGER_SERVER_STORAGE_PG_KEY_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_PG_KEY_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/auth/key_repository.h"

namespace stepledger::storage {

class PgKeyStore final : public domain::auth::KeyRepository {
 public:
  explicit PgKeyStore(std::string database_url);
  ~PgKeyStore() override;

  absl::StatusOr<std::vector<domain::auth::KeyRecord>> LoadKeys() override;
  absl::Status CreateKey(const domain::auth::KeyRecord& key, std::string_view actor) override;
  absl::StatusOr<domain::auth::KeyRecord> RevokeKey(std::string_view id, std::string_view actor,
                                                    std::string_view note) override;
  absl::Status RotateKey(std::string_view old_id, absl::Time old_expires_at,
                         const domain::auth::KeyRecord& replacement,
                         std::string_view actor) override;
  absl::StatusOr<bool> CreateFirstKey(const domain::auth::KeyRecord& key) override;

 private:
  const std::string database_url_;
  struct Reader;  // The refresh's connection (pqxx stays out of this header).
  absl::Mutex mu_;
  std::unique_ptr<Reader> reader_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_KEY_STORE_H_
