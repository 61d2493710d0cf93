// The connection defaults (issue 21): what the collector adds to a database URL, and what it
// leaves to the operator. Parsing only (PQconninfoParse), no server.
#include "server/storage/pg_connection.h"

#include <libpq-fe.h>

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::storage {
namespace {

// The options a connection string sets, as libpq reads them.
std::map<std::string, std::string> Parsed(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  EXPECT_NE(options, nullptr) << (error != nullptr ? error : "") << " in " << conninfo;
  std::map<std::string, std::string> out;
  if (options == nullptr) return out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) out[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return out;
}

TEST(ConnectionDefaultsTest, UnsetTimeoutsAndKeepalivesGetTheCollectorsDefaults) {
  auto got = Parsed(ConnectionStringWithDefaults("postgresql://u@127.0.0.1:5432/stepledger"));
  EXPECT_EQ(got["host"], "127.0.0.1");
  EXPECT_EQ(got["port"], "5432");
  EXPECT_EQ(got["user"], "u");
  EXPECT_EQ(got["dbname"], "stepledger");
  EXPECT_EQ(got["connect_timeout"], kDefaultConnectTimeoutSeconds);
  EXPECT_EQ(got["keepalives"], "1");
  EXPECT_EQ(got["keepalives_idle"], kDefaultKeepalivesIdleSeconds);
  EXPECT_EQ(got["keepalives_interval"], kDefaultKeepalivesIntervalSeconds);
  EXPECT_EQ(got["keepalives_count"], kDefaultKeepalivesCount);
  EXPECT_EQ(got["tcp_user_timeout"], kDefaultTcpUserTimeoutMillis);
  EXPECT_EQ(got["fallback_application_name"], "stepledger-collector");
}

TEST(ConnectionDefaultsTest, ValuesInTheUrlWin) {
  auto got = Parsed(ConnectionStringWithDefaults(
      "postgresql://u@h/db?connect_timeout=30&keepalives=0&tcp_user_timeout=0"
      "&application_name=mine"));
  EXPECT_EQ(got["connect_timeout"], "30");
  EXPECT_EQ(got["keepalives"], "0");
  EXPECT_EQ(got["tcp_user_timeout"], "0");
  EXPECT_EQ(got["application_name"], "mine");
  EXPECT_EQ(got["keepalives_idle"], kDefaultKeepalivesIdleSeconds);  // others still default
}

TEST(ConnectionDefaultsTest, MultiHostUrlKeepsEveryHostAndTheSessionAttributes) {
  auto got = Parsed(ConnectionStringWithDefaults(
      "postgresql://u:p%27w@h1:5432,h2:5433/db?target_session_attrs=read-write"));
  EXPECT_EQ(got["host"], "h1,h2");
  EXPECT_EQ(got["port"], "5432,5433");
  EXPECT_EQ(got["target_session_attrs"], "read-write");
  EXPECT_EQ(got["password"], "p'w");  // quoted through the keyword/value form intact
}

TEST(ConnectionDefaultsTest, KeywordValueStringsGetTheDefaultsToo) {
  auto got = Parsed(ConnectionStringWithDefaults("host=/var/run/postgresql dbname='a b'"));
  EXPECT_EQ(got["host"], "/var/run/postgresql");
  EXPECT_EQ(got["dbname"], "a b");
  EXPECT_EQ(got["connect_timeout"], kDefaultConnectTimeoutSeconds);
}

TEST(ConnectionDefaultsTest, AnUnparsableUrlIsLeftForLibpqToReport) {
  EXPECT_EQ(ConnectionStringWithDefaults("postgresql://h/db?no_such_option=1"),
            "postgresql://h/db?no_such_option=1");
}

TEST(ConnectionDefaultsTest, TheWatchdogReachesOneServerWhateverTheSessionAttributes) {
  auto got = Parsed(ConnectionStringForServer(
      "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write", "h2", "5433"));
  EXPECT_EQ(got["host"], "h2");
  EXPECT_EQ(got["port"], "5433");
  EXPECT_EQ(got["user"], "u");
  EXPECT_EQ(got["dbname"], "db");
  EXPECT_EQ(got.count("target_session_attrs"), 0u);
  EXPECT_EQ(got["connect_timeout"], kDefaultConnectTimeoutSeconds);
}

}  // namespace
}  // namespace stepledger::storage
