#include "server/storage/pg_status.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"

namespace stepledger::storage {

absl::Status CurrentExceptionToStatus(absl::string_view context) {
  try {
    throw;
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(absl::StrCat(context, ": database unreachable: ", e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(absl::StrCat(context, ": commit outcome unknown: ", e.what()));
  } catch (const pqxx::serialization_failure& e) {
    return absl::AbortedError(absl::StrCat(context, ": ", e.what()));
  } catch (const pqxx::deadlock_detected& e) {
    return absl::AbortedError(absl::StrCat(context, ": ", e.what()));
  } catch (const pqxx::integrity_constraint_violation& e) {
    return absl::FailedPreconditionError(absl::StrCat(context, ": ", e.what()));
  } catch (const pqxx::sql_error& e) {
    // Admin shutdown / cannot connect now (57P01, 57P03, 08xxx) arrive as sql_error subclasses
    // on some paths: treat the connection-class SQLSTATEs as unavailability.
    const std::string& state = e.sqlstate();
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
      return absl::UnavailableError(absl::StrCat(context, ": database unavailable: ", e.what()));
    }
    return absl::InternalError(absl::StrCat(context, ": SQL error ", state, ": ", e.what()));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(context, ": unknown exception"));
  }
}

}  // namespace stepledger::storage
