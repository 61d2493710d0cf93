// Applies the embedded migrations (migrations/*.sql) that a database has not seen yet.
//
// Each migration runs in its own transaction together with its schema_migrations row, under a
// session advisory lock, so two collectors starting together never race: the second waits,
// then finds everything applied. A migration whose text changed after it was applied is an
// error (FailedPrecondition), never silently re-run.
#ifndef STEPLEDGER_SERVER_STORAGE_MIGRATOR_H_
#define STEPLEDGER_SERVER_STORAGE_MIGRATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/storage/embedded_migrations.h"

namespace stepledger::storage {

struct MigrationReport {
  std::vector<std::string> applied;  // names applied by this call
  int already_applied = 0;
};

absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& database_url,
                                                const std::vector<Migration>& migrations);

inline absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& database_url) {
  return ApplyMigrations(database_url, EmbeddedMigrations());
}

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_MIGRATOR_H_
