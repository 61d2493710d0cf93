#include "server/storage/pg_status.h"

#include <functional>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/error_ref.h"

namespace stepledger::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What a client would be sent, and what the log got, for one thrown exception.
struct Classified {
  absl::Status status;
  std::string log;
};

Classified Classify(const std::function<void()>& thrower) {
  ::testing::internal::CaptureStderr();
  absl::Status status;
  try {
    thrower();
  } catch (...) {
    status = CurrentExceptionToStatus("commit group");
  }
  return {status, ::testing::internal::GetCapturedStderr()};
}

// Text a libpq error can carry that no client may see.
constexpr char kSecretQuery[] = "INSERT INTO steps (event_id) VALUES ($1)";
constexpr char kSecretWhat[] =
    "ERROR:  duplicate key value violates unique constraint \"event_keys_pkey\"\n"
    "DETAIL:  Key (event_id)=(secret-event-42) already exists.\n"
    "could not connect to server at \"db.internal.example\" (10.1.2.3), port 5432";

void ExpectSafeAndLogged(const Classified& c, absl::string_view phrase) {
  const std::string message(c.status.message());
  EXPECT_TRUE(absl::StartsWith(message, phrase)) << message;
  // Checked without the random ref, which could contain "5432" by chance.
  const std::string shown = message.substr(0, message.find(" (ref "));
  for (const char* secret : {"secret-event-42", "db.internal.example", "10.1.2.3", "5432", "INSERT",
                             "event_keys_pkey", "commit group"}) {
    EXPECT_THAT(shown, Not(HasSubstr(secret)));
  }
  // The ref a client can quote is in the message, in the payload, and in the log line.
  const std::optional<std::string> ref = errors::RefOf(c.status);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->size(), 16u);
  EXPECT_THAT(message, HasSubstr("(ref " + *ref + ")"));
  EXPECT_THAT(c.log, HasSubstr("ref=" + *ref));
  EXPECT_THAT(c.log, HasSubstr("context=\"commit group\""));
  EXPECT_THAT(c.log, HasSubstr("secret-event-42"));  // the detail is in the log, once
  EXPECT_EQ(c.log.find("msg="), c.log.rfind("msg=")) << c.log;
}

TEST(PgStatusTest, BrokenConnectionIsUnavailableWithoutHostOrPort) {
  const Classified c = Classify([] { throw pqxx::broken_connection(kSecretWhat); });
  EXPECT_TRUE(absl::IsUnavailable(c.status));
  ExpectSafeAndLogged(c, kDatabaseUnreachable);
}

TEST(PgStatusTest, ConnectionClassSqlStatesAreUnavailable) {
  for (const char* state : {"08006", "57P01", "57P02", "57P03"}) {
    const Classified c =
        Classify([state] { throw pqxx::sql_error(kSecretWhat, kSecretQuery, state); });
    EXPECT_TRUE(absl::IsUnavailable(c.status)) << state;
    ExpectSafeAndLogged(c, kDatabaseUnreachable);
    EXPECT_THAT(c.log, HasSubstr(std::string("sqlstate=") + state));
  }
}

TEST(PgStatusTest, CommitInDoubtIsUnavailableAndSaysResend) {
  const Classified c = Classify([] { throw pqxx::in_doubt_error(kSecretWhat); });
  EXPECT_TRUE(absl::IsUnavailable(c.status));
  ExpectSafeAndLogged(c, kCommitOutcomeUnknown);
  // The write path tells an in-doubt COMMIT from a plain outage by this phrase.
  EXPECT_TRUE(absl::StrContains(c.status.message(), "commit outcome unknown"));
}

TEST(PgStatusTest, SerializationFailureAndDeadlockAreAborted) {
  const Classified serialization = Classify([] { throw pqxx::serialization_failure(kSecretWhat); });
  EXPECT_TRUE(absl::IsAborted(serialization.status));
  ExpectSafeAndLogged(serialization, kTransactionConflict);
  const Classified deadlock = Classify([] { throw pqxx::deadlock_detected(kSecretWhat); });
  EXPECT_TRUE(absl::IsAborted(deadlock.status));
  ExpectSafeAndLogged(deadlock, kTransactionConflict);
}

TEST(PgStatusTest, ConstraintViolationIsFailedPreconditionWithoutKeyValues) {
  const Classified c =
      Classify([] { throw pqxx::unique_violation(kSecretWhat, kSecretQuery, "23505"); });
  EXPECT_TRUE(absl::IsFailedPrecondition(c.status));
  ExpectSafeAndLogged(c, kConstraintViolated);
  EXPECT_THAT(c.log, HasSubstr("sqlstate=23505"));
  EXPECT_THAT(c.log, HasSubstr("INSERT INTO steps"));  // the statement goes to the log
}

TEST(PgStatusTest, OtherSqlErrorsAreInternalWithoutSqlOrSqlState) {
  const Classified c = Classify([] { throw pqxx::sql_error(kSecretWhat, kSecretQuery, "22008"); });
  EXPECT_TRUE(absl::IsInternal(c.status));
  ExpectSafeAndLogged(c, kStorageError);
  EXPECT_THAT(std::string(c.status.message()), Not(HasSubstr("22008")));
  EXPECT_THAT(c.log, HasSubstr("sqlstate=22008"));
}

TEST(PgStatusTest, AnyOtherExceptionIsInternal) {
  const Classified std_error = Classify([] { throw std::runtime_error(kSecretWhat); });
  EXPECT_TRUE(absl::IsInternal(std_error.status));
  ExpectSafeAndLogged(std_error, kStorageError);
  const Classified unknown = Classify([] { throw 42; });
  EXPECT_TRUE(absl::IsInternal(unknown.status));
  EXPECT_TRUE(errors::RefOf(unknown.status).has_value());
}

TEST(PgStatusTest, EveryErrorGetsItsOwnRef) {
  const Classified a = Classify([] { throw pqxx::broken_connection("down"); });
  const Classified b = Classify([] { throw pqxx::broken_connection("down"); });
  EXPECT_NE(errors::RefOf(a.status), errors::RefOf(b.status));
}

}  // namespace
}  // namespace stepledger::storage
