#include "server/config/config.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stepledger::config {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kUrl[] = "--database-url=postgresql://u@127.0.0.1:5432/db";

EnvLookup Env(std::map<std::string, std::string> vars = {}) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// The flags under test plus a database URL and, unless the test chooses its transport itself
// (any --tls-* or --insecure flag), --insecure.
absl::StatusOr<Config> Load(std::vector<std::string> args,
                            std::map<std::string, std::string> env = {}) {
  bool chooses_transport = false;
  for (const std::string& a : args) {
    if (a.rfind("--tls-", 0) == 0 || a.rfind("--insecure", 0) == 0) chooses_transport = true;
  }
  for (const auto& [name, value] : env) {
    if (name == "STEPLEDGER_INSECURE" || name.rfind("STEPLEDGER_TLS_", 0) == 0) {
      chooses_transport = true;
    }
  }
  args.insert(args.begin(), kUrl);
  if (!chooses_transport) args.push_back("--insecure");
  return LoadConfig(args, Env(std::move(env)));
}

TEST(ConfigTest, DefaultsListenOnLoopbackWithoutWarnings) {
  auto config = Load({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->grpc_listen, "127.0.0.1:50051");
  EXPECT_FALSE(config->allow_insecure_remote);
  EXPECT_FALSE(config->insecure_no_auth);
  EXPECT_THAT(Warnings(*config), IsEmpty());
}

TEST(ConfigTest, NeitherTlsNorInsecureIsRefused) {
  auto config = LoadConfig({kUrl}, Env());
  ASSERT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("--tls-cert"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("--insecure"));
}

TEST(ConfigTest, TlsFlagsAreTakenAndCheckedTogether) {
  auto config = Load({"--tls-cert=/c.pem", "--tls-key=/k.pem", "--tls-client-ca=/ca.pem",
                      "--grpc-listen=0.0.0.0:50051"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls_cert, "/c.pem");
  EXPECT_EQ(config->tls_key, "/k.pem");
  EXPECT_EQ(config->tls_client_ca, "/ca.pem");
  EXPECT_FALSE(config->insecure);
  EXPECT_THAT(Warnings(*config), IsEmpty());  // TLS on any address is the normal case
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--tls-cert=/c.pem"}, std::vector<std::string>{"--tls-key=/k"},
        std::vector<std::string>{"--tls-client-ca=/ca.pem", "--insecure"},
        std::vector<std::string>{"--tls-cert=/c", "--tls-key=/k", "--insecure"},
        std::vector<std::string>{"--tls-cert=/c", "--tls-key=/k", "--allow-insecure-remote"},
        std::vector<std::string>{"--tls-cert=/c", "--tls-key=/k", "--insecure-no-auth"},
        std::vector<std::string>{"--tls-cert=/c", "--tls-key=/k",
                                 "--otlp-http-listen=0.0.0.0:1"}}) {
    EXPECT_TRUE(absl::IsInvalidArgument(Load(args).status())) << args[0];
  }
}

TEST(ConfigTest, LoopbackListenAddressesAreAccepted) {
  for (const char* listen : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051", "LOCALHOST:1",
                             "[::1]:50051", "::1:50051", "unix:/tmp/s.sock"}) {
    auto config = Load({std::string("--grpc-listen=") + listen});
    ASSERT_TRUE(config.ok()) << listen << ": " << config.status();
    EXPECT_THAT(Warnings(*config), IsEmpty()) << listen;
  }
}

TEST(ConfigTest, NonLoopbackPlaintextListenIsRefusedNamingTheFlag) {
  for (const char* listen : {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051",
                             "collector.example.com:50051", "128.0.0.1:50051", "50051"}) {
    auto config = Load({std::string("--grpc-listen=") + listen});
    ASSERT_FALSE(config.ok()) << listen;
    EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
    EXPECT_THAT(std::string(config.status().message()), HasSubstr("--grpc-listen"));
    EXPECT_THAT(std::string(config.status().message()), HasSubstr("--allow-insecure-remote"));
  }
  auto otlp = Load({"--otlp-http-listen=0.0.0.0:4318"});
  EXPECT_THAT(std::string(otlp.status().message()), HasSubstr("--otlp-http-listen"));
}

TEST(ConfigTest, NonLoopbackIsRefusedFromTheEnvironmentToo) {
  auto config = Load({}, {{"STEPLEDGER_GRPC_LISTEN", "0.0.0.0:50051"}});
  EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
}

TEST(ConfigTest, AllowInsecureRemoteAcceptsItAndWarnsLoudly) {
  // As a bare flag (it must not swallow the next argument), with a value, and from the env.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--allow-insecure-remote", "--grpc-listen=0.0.0.0:50051"},
        std::vector<std::string>{"--grpc-listen", "0.0.0.0:50051",
                                 "--allow-insecure-remote=true"}}) {
    auto config = Load(args);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_TRUE(config->allow_insecure_remote);
    EXPECT_EQ(config->grpc_listen, "0.0.0.0:50051");
    const std::vector<std::string> warnings = Warnings(*config);
    ASSERT_THAT(warnings, SizeIs(1));
    EXPECT_THAT(warnings[0], HasSubstr("INSECURE"));
    EXPECT_THAT(warnings[0], HasSubstr("0.0.0.0:50051"));
  }
  auto from_env = Load({}, {{"STEPLEDGER_GRPC_LISTEN", "[::]:50051"},
                            {"STEPLEDGER_INSECURE", "1"},
                            {"STEPLEDGER_ALLOW_INSECURE_REMOTE", "1"}});
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_THAT(Warnings(*from_env), SizeIs(1));
}

TEST(ConfigTest, AllowInsecureRemoteFalseStillRefuses) {
  auto config = Load({"--grpc-listen=0.0.0.0:1", "--allow-insecure-remote=false"});
  EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
}

TEST(ConfigTest, NoAuthOnlyWithPlaintextOnLoopbackAndAlwaysWarned) {
  auto config = Load({"--insecure", "--insecure-no-auth"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->insecure_no_auth);
  ASSERT_THAT(Warnings(*config), SizeIs(1));
  EXPECT_THAT(Warnings(*config)[0], HasSubstr("NO AUTHENTICATION"));
  EXPECT_TRUE(absl::IsInvalidArgument(Load({"--insecure", "--insecure-no-auth",
                                            "--allow-insecure-remote", "--grpc-listen=0.0.0.0:1"})
                                          .status()));
}

TEST(ConfigTest, MetricsListenIsLoopbackUnlessAllowed) {
  EXPECT_TRUE(absl::IsInvalidArgument(Load({"--metrics-listen=0.0.0.0:9464"}).status()));
  auto config = Load({"--metrics-listen=0.0.0.0:9464", "--allow-remote-metrics"});
  EXPECT_TRUE(config.ok()) << config.status();
}

TEST(ConfigTest, BootstrapAdminKeyComesFromTheEnvironmentOnly) {
  auto config = Load({}, {{"STEPLEDGER_BOOTSTRAP_ADMIN_KEY", "slk_abc_def"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->bootstrap_admin_key, "slk_abc_def");
  EXPECT_TRUE(absl::IsInvalidArgument(Load({"--bootstrap-admin-key=slk_abc_def"}).status()));
}

// docs/OPERATING.md, "Database roles": the owner's URL only migrates.
TEST(ConfigTest, MigrationDatabaseUrlIsTheOwnersAndNeedsMigrate) {
  auto config = Load({}, {{"STEPLEDGER_MIGRATION_DATABASE_URL", "postgresql://owner@h/db"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->migration_database_url, "postgresql://owner@h/db");
  EXPECT_EQ(config->database_url, "postgresql://u@127.0.0.1:5432/db");
  EXPECT_TRUE(Load({})->migration_database_url.empty());
  const absl::Status no_migrate =
      Load({"--migration-database-url=postgresql://owner@h/db", "--no-migrate"}).status();
  EXPECT_TRUE(absl::IsInvalidArgument(no_migrate));
  EXPECT_THAT(std::string(no_migrate.message()), ::testing::HasSubstr("--migration-database-url"));
}

TEST(ConfigTest, MetricsTopCapsIsParsedAndBounded) {
  auto config = Load({"--metrics-top-caps=7"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metrics_top_caps, 7);
  EXPECT_EQ(Load({})->metrics_top_caps, 100);
  EXPECT_TRUE(absl::IsInvalidArgument(Load({"--metrics-top-caps=-1"}).status()));
}

TEST(IsLoopbackListenTest, ClassifiesAddresses) {
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopbackListen("127.255.255.254:1"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:1"));
  EXPECT_TRUE(IsLoopbackListen("unix-abstract:stepledger"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:1"));
  EXPECT_FALSE(IsLoopbackListen("[::]:1"));
  EXPECT_FALSE(IsLoopbackListen("192.168.1.1:1"));
  EXPECT_FALSE(IsLoopbackListen(""));
}

}  // namespace
}  // namespace stepledger::config

namespace stepledger::config {
namespace {

TEST(ConfigTest, BudgetStaleAfterDefaultsToFiveSecondsAndMustExceedTheRefreshInterval) {
  auto config = Load({});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->budget_stale_after, absl::Seconds(5));
  config = Load({"--budget-stale-after=30s", "--budget-refresh-interval=2s"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->budget_stale_after, absl::Seconds(30));
  config = Load({"--budget-stale-after=1s"});  // equal to the default refresh interval
  ASSERT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("--budget-stale-after"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("--budget-refresh-interval"));
}

}  // namespace
}  // namespace stepledger::config
