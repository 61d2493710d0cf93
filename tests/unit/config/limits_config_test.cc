// The gRPC limits, the ingest rate limit and /metrics basic auth flags (docs/OPERATING.md):
// defaults, parsing, and errors that name the flag.
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/config.h"

namespace stepledger::config {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Config> Load(std::vector<std::string> args) {
  args.push_back("--database-url=postgresql://u@127.0.0.1:5432/db");
  args.push_back("--insecure");
  return LoadConfig(args,
                    [](const std::string&) -> std::optional<std::string> { return std::nullopt; });
}

TEST(LimitsConfigTest, DefaultsAreTheDocumentedOnes) {
  absl::StatusOr<Config> c = Load({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_receive_message_bytes, 16 * 1024 * 1024);
  EXPECT_EQ(c->max_concurrent_streams, 100);
  EXPECT_EQ(c->keepalive_time, absl::Minutes(1));
  EXPECT_EQ(c->keepalive_timeout, absl::Seconds(20));
  EXPECT_EQ(c->keepalive_min_ping_interval, absl::Seconds(10));
  EXPECT_TRUE(c->keepalive_permit_without_calls);
  EXPECT_EQ(c->max_connection_idle, absl::Minutes(15));
  EXPECT_EQ(c->max_connection_age, absl::ZeroDuration());
  EXPECT_EQ(c->max_connection_age_grace, absl::Minutes(5));
  EXPECT_EQ(c->ingest_rate_limit, 0);
  EXPECT_EQ(c->ingest_burst, 0);
  EXPECT_TRUE(c->metrics_basic_auth_file.empty());
  EXPECT_EQ(c->tls_reload_interval, absl::Seconds(2));
}

TEST(LimitsConfigTest, FlagsAreParsed) {
  absl::StatusOr<Config> c = Load(
      {"--max-receive-message-bytes=65536", "--max-concurrent-streams=8", "--keepalive-time=30s",
       "--keepalive-min-ping-interval=1m", "--no-keepalive-permit-without-calls",
       "--max-connection-idle=1h", "--max-connection-age=2h", "--max-connection-age-grace=30s",
       "--ingest-rate-limit=500", "--ingest-burst=2000",
       "--metrics-basic-auth-file=/etc/stepledger/metrics.auth", "--tls-reload-interval=0s"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->max_receive_message_bytes, 65536);
  EXPECT_EQ(c->max_concurrent_streams, 8);
  EXPECT_EQ(c->keepalive_time, absl::Seconds(30));
  EXPECT_EQ(c->keepalive_min_ping_interval, absl::Minutes(1));
  EXPECT_FALSE(c->keepalive_permit_without_calls);
  EXPECT_EQ(c->max_connection_idle, absl::Hours(1));
  EXPECT_EQ(c->max_connection_age, absl::Hours(2));
  EXPECT_EQ(c->max_connection_age_grace, absl::Seconds(30));
  EXPECT_EQ(c->ingest_rate_limit, 500);
  EXPECT_EQ(c->ingest_burst, 2000);
  EXPECT_EQ(c->metrics_basic_auth_file, "/etc/stepledger/metrics.auth");
  EXPECT_EQ(c->tls_reload_interval, absl::ZeroDuration());
}

TEST(LimitsConfigTest, BadValuesNameTheFlag) {
  EXPECT_THAT(Load({"--max-receive-message-bytes=100"}).status().message(),
              HasSubstr("--max-receive-message-bytes"));
  EXPECT_THAT(Load({"--max-concurrent-streams=0"}).status().message(),
              HasSubstr("--max-concurrent-streams"));
  EXPECT_THAT(Load({"--ingest-rate-limit=-5"}).status().message(),
              HasSubstr("--ingest-rate-limit"));
  EXPECT_THAT(Load({"--max-connection-age=soon"}).status().message(),
              HasSubstr("--max-connection-age"));
}

}  // namespace
}  // namespace stepledger::config
