#include "server/storage/pg_health.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "server/storage/embedded_migrations.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {
namespace {

constexpr char kCountApplied[] =
    "SELECT count(*) FROM schema_migrations WHERE name = ANY(string_to_array($1, ','))";

}  // namespace

absl::Status CheckDatabaseReady(const std::string& database_url) {
  std::string names;
  for (const Migration& m : EmbeddedMigrations()) {
    absl::StrAppend(&names, names.empty() ? "" : ",", m.name);
  }
  try {
    PgConnection conn(database_url);
    pqxx::read_transaction tx(conn);
    const int64_t applied = tx.exec_params1(kCountApplied, names)[0].as<int64_t>();
    if (applied < static_cast<int64_t>(EmbeddedMigrations().size())) {
      return absl::FailedPreconditionError(absl::StrCat("database schema is behind: ", applied,
                                                        " of ", EmbeddedMigrations().size(),
                                                        " migrations applied"));
    }
    return absl::OkStatus();
  } catch (const pqxx::broken_connection&) {
    return absl::UnavailableError(kDatabaseUnreachable);
  } catch (const pqxx::undefined_table&) {
    return absl::FailedPreconditionError("database not migrated");
  } catch (...) {
    return CurrentExceptionToStatus("health check");
  }
}

}  // namespace stepledger::storage
