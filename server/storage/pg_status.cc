#include "server/storage/pg_status.h"

#include <pqxx/pqxx>
#include <string>

#include "server/common/error_ref.h"
#include "server/common/log.h"

namespace stepledger::storage {
namespace {

constexpr absl::string_view kLogMessage = "storage error";

absl::Status Classified(absl::StatusCode code, absl::string_view phrase, log::Level level,
                        absl::string_view context, const char* what, std::string sqlstate = "",
                        std::string query = "") {
  return errors::Referenced(code, phrase, level, kLogMessage,
                            {{"context", std::string(context)},
                             {"code", absl::StatusCodeToString(code)},
                             {"sqlstate", std::move(sqlstate)},
                             {"detail", what},
                             {"query", std::move(query)}});
}

}  // namespace

absl::Status CurrentExceptionToStatus(absl::string_view context) {
  // Unavailability and conflicts are expected in operation (outages, retries): warnings.
  // Anything else is a bug or a schema problem: errors.
  using absl::StatusCode;
  constexpr log::Level kWarn = log::Level::kWarn;
  constexpr log::Level kError = log::Level::kError;
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return Classified(StatusCode::kUnavailable, kDatabaseUnreachable, kWarn, context, e.what());
  } catch (const pqxx::in_doubt_error& e) {
    return Classified(StatusCode::kUnavailable, kCommitOutcomeUnknown, kWarn, context, e.what());
  } catch (const pqxx::serialization_failure& e) {  // not an sql_error in libpqxx 6
    return Classified(StatusCode::kAborted, kTransactionConflict, kWarn, context, e.what(),
                      "40001");
  } catch (const pqxx::deadlock_detected& e) {
    return Classified(StatusCode::kAborted, kTransactionConflict, kWarn, context, e.what(),
                      "40P01");
  } catch (const pqxx::integrity_constraint_violation& e) {
    return Classified(StatusCode::kFailedPrecondition, kConstraintViolated, kError, context,
                      e.what(), e.sqlstate(), e.query());
  } catch (const pqxx::sql_error& e) {
    // Admin shutdown / cannot connect now (57P01, 57P03, 08xxx) arrive as sql_error subclasses
    // on some paths: treat the connection-class SQLSTATEs as unavailability.
    const std::string& state = e.sqlstate();
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
      return Classified(StatusCode::kUnavailable, kDatabaseUnreachable, kWarn, context, e.what(),
                        state, e.query());
    }
    return Classified(StatusCode::kInternal, kStorageError, kError, context, e.what(), state,
                      e.query());
  } catch (const std::exception& e) {
    return Classified(StatusCode::kInternal, kStorageError, kError, context, e.what());
  } catch (...) {
    return Classified(StatusCode::kInternal, kStorageError, kError, context, "unknown exception");
  }
}

}  // namespace stepledger::storage
