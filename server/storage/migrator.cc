#include "server/storage/migrator.h"

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {
namespace {

// Advisory lock key for migrations: "stepledger migrate" folded into a bigint.
constexpr int64_t kMigrationLockKey = 0x5354504c4d494752;  // "STPLMIGR"

constexpr char kCreateSchemaMigrations[] = R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  ))sql";
constexpr char kSelectApplied[] = "SELECT checksum FROM schema_migrations WHERE version = $1";
constexpr char kInsertApplied[] =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

// FNV-1a 64: stable across builds and platforms, enough to notice an edited migration.
std::string Checksum(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

absl::StatusOr<int> VersionOf(const std::string& name) {
  int version = 0;
  const size_t digits = name.find_first_not_of("0123456789");
  if (digits == 0 || !absl::SimpleAtoi(name.substr(0, digits), &version)) {
    return absl::InvalidArgumentError(
        absl::StrCat("migration file ", name, " must start with its version number"));
  }
  return version;
}

}  // namespace

absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& database_url,
                                                const std::vector<Migration>& migrations) {
  MigrationReport report;
  try {
    PgConnection conn(database_url);
    // Transaction-scoped locks, one per migration, not one session lock around them all: behind
    // a transaction-mode pooler (pgbouncer) a session lock stays with whichever server session
    // took it, and the next start would wait for it forever. Each migration is looked up under
    // the lock, so replicas starting together still apply each one exactly once.
    {
      pqxx::work txn(conn);
      txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
      txn.exec(kCreateSchemaMigrations);
      txn.commit();
    }
    for (const Migration& m : migrations) {
      absl::StatusOr<int> version = VersionOf(m.name);
      if (!version.ok()) return version.status();
      const std::string checksum = Checksum(m.sql);
      pqxx::work txn(conn);
      txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
      pqxx::result existing = txn.exec_params(kSelectApplied, *version);
      if (!existing.empty()) {
        if (existing[0][0].as<std::string>() != checksum) {
          return absl::FailedPreconditionError(
              absl::StrCat("migration ", m.name,
                           " was edited after it was applied; add a new "
                           "numbered migration instead"));
        }
        ++report.already_applied;
        continue;
      }
      txn.exec(m.sql);
      txn.exec_params(kInsertApplied, *version, m.name, checksum);
      txn.commit();
      report.applied.push_back(m.name);
    }
  } catch (...) {
    return CurrentExceptionToStatus("migrate");
  }
  return report;
}

}  // namespace stepledger::storage
