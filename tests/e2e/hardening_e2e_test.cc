// Hardening end to end (docs/SECURITY.md, "Limits", "Ingest rate limit", "Metrics",
// "Secrets"): a real collector with keys on, real PostgreSQL. The gRPC limits as configured
// and logged, a message refused by its size after decompression, the per-credential ingest
// rate limit beside an unaffected key, /metrics with basic auth, and no secret in the log,
// /metrics or an error message after a scenario that uses every kind of key.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stepledger/internal/rpc_status_wire.pb.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "stepledger/v1/collector.grpc.pb.h"
#include "stepledger/v1/keys.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/e2e_steps.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using ::testing::HasSubstr;
using testing::TestDatabase;

std::string RandomHex(int n) {
  std::random_device rd;
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back("0123456789abcdef"[rd() % 16]);
  return out;
}

// The command's standard output (stderr discarded).
std::string Output(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

void Authorize(grpc::ClientContext& ctx, const std::string& token) {
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
}

v1::StepBatch Batch(const std::string& prefix, uint64_t sequence, int events) {
  v1::StepBatch batch;
  batch.set_sequence(sequence);
  for (int i = 0; i < events; ++i) {
    *batch.add_events() = testing::SearchStep(absl::StrCat(prefix, "-", sequence, "-", i));
  }
  return batch;
}

// What one stream did: events accepted per acked sequence, and how it ended.
struct StreamOutcome {
  std::map<uint64_t, int64_t> accepted;
  grpc::Status status;
};

// Writes the batches, then reads acks until the stream ends.
StreamOutcome Stream(const std::shared_ptr<grpc::Channel>& channel, const std::string& token,
                     const std::vector<v1::StepBatch>& batches) {
  auto stub = v1::Collector::NewStub(channel);
  grpc::ClientContext ctx;
  Authorize(ctx, token);
  auto stream = stub->StreamSteps(&ctx);
  StreamOutcome out;
  for (const auto& b : batches) {
    if (!stream->Write(b)) break;
  }
  stream->WritesDone();
  v1::BatchAck ack;
  while (stream->Read(&ack)) out.accepted[ack.sequence()] = ack.accepted();
  out.status = stream->Finish();
  return out;
}

// The google.rpc.RetryInfo delay in a status' details, or -1s when there is none.
absl::Duration RetryDelay(const grpc::Status& status) {
  internal::RpcStatusWire details;
  if (!details.ParseFromString(status.error_details())) return absl::Seconds(-1);
  for (const auto& any : details.details()) {
    if (any.type_url() != "type.googleapis.com/google.rpc.RetryInfo") continue;
    internal::RetryInfoWire retry;
    if (!retry.ParseFromString(any.value())) return absl::Seconds(-1);
    return absl::Seconds(retry.retry_delay().seconds()) +
           absl::Nanoseconds(retry.retry_delay().nanos());
  }
  return absl::Seconds(-1);
}

class HardeningE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    dir_ = std::filesystem::temp_directory_path() /
           ("stepledger-hardening-e2e-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static std::shared_ptr<grpc::Channel> Channel(const CollectorProcess& collector) {
    return testing::ChannelWithoutKey(collector.target());
  }

  // Creates a key with the admin key; returns the whole response (token included).
  static v1::CreateKeyResponse CreateKey(const CollectorProcess& collector, const std::string& name,
                                         const std::string& role) {
    auto keys = v1::Keys::NewStub(Channel(collector));
    v1::CreateKeyRequest req;
    req.set_name(name);
    req.add_roles(role);
    req.add_scopes("*");
    v1::CreateKeyResponse created;
    grpc::ClientContext ctx;
    Authorize(ctx, testing::TestAdminKey());
    const grpc::Status s = keys->CreateKey(&ctx, req, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created;
  }

  static grpc::Status CheckBudget(const CollectorProcess& collector, const std::string& token,
                                  const std::string& feature, bool gzip = false) {
    auto stub = v1::Budget::NewStub(Channel(collector));
    v1::CheckBudgetRequest req;
    *req.mutable_tags() = testing::SearchTags("r", feature);
    v1::CheckBudgetResponse out;
    grpc::ClientContext ctx;
    Authorize(ctx, token);
    if (gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    return stub->CheckBudget(&ctx, req, &out);
  }

  TestDatabase db_;
  std::filesystem::path dir_;
};

TEST_F(HardeningE2eTest, LimitsAreLoggedAndAMessageOverTheLimitAfterDecompressionIsRefused) {
  CollectorProcess collector(db_.url(),
                             {"--max-receive-message-bytes=65536", "--max-concurrent-streams=8",
                              "--keepalive-min-ping-interval=30s", "--max-connection-idle=5m",
                              "--max-connection-age=1h", "--max-connection-age-grace=1m"});
  ASSERT_TRUE(collector.Start()) << collector.Log();
  EXPECT_THAT(collector.Log(),
              HasSubstr("msg=\"gRPC limits\" max_receive_message_bytes=65536 "
                        "max_concurrent_streams=8 keepalive_time=1m keepalive_timeout=20s "
                        "keepalive_min_ping_interval=30s keepalive_permit_without_calls=true "
                        "max_connection_idle=5m max_connection_age=1h "
                        "max_connection_age_grace=1m"));
  EXPECT_EQ(CheckBudget(collector, testing::TestAdminKey(), "triage").error_code(),
            grpc::StatusCode::OK);
  // 300 KB of one letter: a few hundred bytes on the wire with gzip, 300 KB once inflated.
  const std::string huge(300 * 1024, 'a');
  const grpc::Status gzipped = CheckBudget(collector, testing::TestAdminKey(), huge, true);
  EXPECT_EQ(gzipped.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << gzipped.error_message();
  EXPECT_EQ(CheckBudget(collector, testing::TestAdminKey(), huge).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // The collector is still serving.
  EXPECT_EQ(CheckBudget(collector, testing::TestAdminKey(), "triage").error_code(),
            grpc::StatusCode::OK);
}

TEST_F(HardeningE2eTest, AKeyOverItsIngestRateGetsRetryInfoAnotherKeyIsUnaffectedNothingIsLost) {
  // 200 events/s with a burst of 1,000: two batches of 500 pass at once, a third must wait
  // about 2.5 s.
  CollectorProcess collector(db_.url(), {"--ingest-rate-limit=200", "--ingest-burst=1000"});
  ASSERT_TRUE(collector.Start()) << collector.Log();
  EXPECT_THAT(collector.Log(), HasSubstr("events_per_second=200 burst=1000"));
  const std::string noisy = CreateKey(collector, "noisy", "ingest").token();
  const std::string quiet = CreateKey(collector, "quiet", "ingest").token();
  ASSERT_FALSE(noisy.empty());
  ASSERT_FALSE(quiet.empty());

  const StreamOutcome over = Stream(Channel(collector), noisy,
                                    {Batch("n", 1, 500), Batch("n", 2, 500), Batch("n", 3, 500)});
  EXPECT_EQ(over.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << over.status.error_message();
  EXPECT_THAT(over.status.error_message(), HasSubstr("ingest rate limit"));
  const absl::Duration delay = RetryDelay(over.status);
  EXPECT_GT(delay, absl::Seconds(1)) << "RetryInfo with the wait for 500 more events";
  EXPECT_LE(delay, absl::Seconds(3));
  EXPECT_EQ(over.accepted.at(1), 500);
  EXPECT_EQ(over.accepted.at(2), 500);
  EXPECT_EQ(over.accepted.count(3), 0u) << "the refused batch is not acked";

  // Beside it, another key ingests at once.
  const StreamOutcome beside = Stream(Channel(collector), quiet, {Batch("q", 1, 500)});
  EXPECT_TRUE(beside.status.ok()) << beside.status.error_message();
  EXPECT_EQ(beside.accepted.at(1), 500);

  // The noisy client honours the delay and re-sends the unacked batch: all of it is stored.
  absl::SleepFor(delay);
  const StreamOutcome resent = Stream(Channel(collector), noisy, {Batch("n", 3, 500)});
  EXPECT_TRUE(resent.status.ok()) << resent.status.error_message();
  EXPECT_EQ(resent.accepted.at(3), 500);
}

TEST_F(HardeningE2eTest, MetricsAskForBasicAuthWhenConfigured) {
  const std::string password = RandomHex(24);
  std::ofstream(Path("auth")) << "prometheus:" << password << "\n";
  CollectorProcess collector(db_.url(), {"--metrics-basic-auth-file=" + Path("auth")});
  ASSERT_TRUE(collector.Start()) << collector.Log();
  EXPECT_THAT(collector.Log(), HasSubstr("msg=\"metrics endpoint\" metrics=127.0.0.1:"));
  EXPECT_THAT(collector.Log(), HasSubstr("basic_auth=on"));
  const std::string url = absl::StrCat("http://127.0.0.1:", collector.metrics_port(), "/metrics");
  auto code = [&](const std::string& args) {
    return Output(
        absl::StrCat("curl -s --max-time 10 -o /dev/null -w '%{http_code}' ", args, " ", url));
  };
  EXPECT_EQ(code(""), "401");
  EXPECT_EQ(code("-u prometheus:wrong"), "401");
  EXPECT_EQ(code("-u other:" + password), "401");
  EXPECT_EQ(code("-u prometheus:" + password), "200");
  EXPECT_THAT(Output(absl::StrCat("curl -s --max-time 10 -u prometheus:", password, " ", url)),
              HasSubstr("stepledger_build_info"));
  EXPECT_EQ(collector.Log().find(password), std::string::npos);
  // A file without "user:password" stops the collector, without quoting the file.
  std::ofstream(Path("bad")) << "only-a-password-" << password << "\n";
  CollectorProcess bad(db_.url(), {"--metrics-basic-auth-file=" + Path("bad")});
  EXPECT_FALSE(bad.Start(std::chrono::seconds(20)));
  EXPECT_THAT(bad.Log(), HasSubstr("the first line must be user:password"));
  EXPECT_EQ(bad.Log().find(password), std::string::npos);
}

TEST_F(HardeningE2eTest, NoSecretAppearsInTheLogOrMetricsOrErrors) {
  const std::string metrics_password = RandomHex(24);
  std::ofstream(Path("auth")) << "prometheus:" << metrics_password << "\n";
  CollectorProcess collector(db_.url(), {"--metrics-basic-auth-file=" + Path("auth")});
  ASSERT_TRUE(collector.Start()) << collector.Log();
  std::vector<std::string> secrets = {testing::TestAdminKey(), metrics_password};
  std::vector<std::string> errors;
  auto secret_of = [](const std::string& token) { return token.substr(token.rfind('_') + 1); };

  // Keys made, used, rotated and revoked.
  const v1::CreateKeyResponse ingest = CreateKey(collector, "ingest-job", "ingest");
  const v1::CreateKeyResponse checker = CreateKey(collector, "checker", "check");
  secrets.push_back(ingest.token());
  secrets.push_back(checker.token());
  EXPECT_TRUE(CheckBudget(collector, checker.token(), "triage").ok());
  EXPECT_TRUE(Stream(Channel(collector), ingest.token(), {Batch("s", 1, 3)}).status.ok());
  auto keys = v1::Keys::NewStub(Channel(collector));
  std::string rotated_token;
  {
    v1::RotateKeyRequest req;
    req.set_id(checker.key().id());
    req.set_grace_seconds(0);
    v1::CreateKeyResponse rotated;
    grpc::ClientContext ctx;
    Authorize(ctx, testing::TestAdminKey());
    ASSERT_TRUE(keys->RotateKey(&ctx, req, &rotated).ok());
    rotated_token = rotated.token();
    secrets.push_back(rotated_token);
    EXPECT_TRUE(CheckBudget(collector, rotated_token, "triage").ok());
  }
  {
    v1::RevokeKeyRequest req;
    req.set_id(ingest.key().id());
    v1::KeyInfo revoked;
    grpc::ClientContext ctx;
    Authorize(ctx, testing::TestAdminKey());
    ASSERT_TRUE(keys->RevokeKey(&ctx, req, &revoked).ok());
  }
  // Refused: the revoked key, the rotated-away key, a right id with a wrong secret, a
  // malformed token, and a key without the role.
  const std::string wrong_secret = absl::StrCat("slk_", checker.key().id(), "_", RandomHex(64));
  const std::string malformed = "slk_" + RandomHex(40);
  secrets.push_back(wrong_secret);
  secrets.push_back(malformed);
  for (const std::string& token : {ingest.token(), checker.token(), wrong_secret, malformed}) {
    const grpc::Status s = CheckBudget(collector, token, "triage");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
    errors.push_back(s.error_message());
  }
  const StreamOutcome revoked = Stream(Channel(collector), ingest.token(), {Batch("s", 2, 1)});
  EXPECT_EQ(revoked.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  errors.push_back(revoked.status.error_message());
  {
    grpc::ClientContext ctx;
    Authorize(ctx, rotated_token);  // check role only
    v1::ListKeysResponse listed;
    const grpc::Status s = keys->ListKeys(&ctx, v1::ListKeysRequest{}, &listed);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    errors.push_back(s.error_message());
  }
  // OTLP/HTTP with a bad key.
  errors.push_back(Output(absl::StrCat(
      "curl -s --max-time 10 -X POST -H 'Content-Type: application/json' -H 'Authorization: "
      "Bearer ",
      wrong_secret, "' -d '{}' http://127.0.0.1:", collector.otlp_http_port(), "/v1/traces")));
  const std::string metrics =
      Output(absl::StrCat("curl -s --max-time 10 -u prometheus:", metrics_password,
                          " http://127.0.0.1:", collector.metrics_port(), "/metrics"));
  ASSERT_THAT(metrics, HasSubstr("stepledger_build_info"));
  ASSERT_EQ(collector.Stop(), 0);
  const std::string log = collector.Log();
  ASSERT_THAT(log, HasSubstr("stopped cleanly"));
  for (const std::string& secret : secrets) {
    // The whole token and its secret part alone (the id before it is public).
    for (const std::string& needle : {secret, secret_of(secret)}) {
      EXPECT_EQ(log.find(needle), std::string::npos) << "log leaks " << needle;
      EXPECT_EQ(metrics.find(needle), std::string::npos) << "/metrics leaks " << needle;
      for (const std::string& e : errors) {
        EXPECT_EQ(e.find(needle), std::string::npos) << "error '" << e << "' leaks " << needle;
      }
    }
  }
}

}  // namespace
}  // namespace stepledger
