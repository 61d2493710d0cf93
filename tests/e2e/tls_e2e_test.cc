// TLS end to end (docs/SECURITY.md, "Transport"): certificates made with openssl for this
// test, a real collector serving TLS with keys on, real PostgreSQL. Also the one test that
// checks the insecure mode's loopback restriction.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
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

int Sh(const std::string& command) { return std::system((command + " 2>/dev/null").c_str()); }

class TlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    dir_ =
        std::filesystem::temp_directory_path() / ("stepledger-tls-e2e-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    ASSERT_EQ(MakeCa("ca"), 0);
    ASSERT_EQ(MakeCa("rogue-ca"), 0);
    ASSERT_EQ(MakeLeaf("server", "ca", "/CN=localhost", "DNS:localhost,IP:127.0.0.1"), 0);
    ASSERT_EQ(MakeLeaf("client", "ca", "/CN=batch-job", "DNS:batch-job"), 0);
    ASSERT_EQ(MakeLeaf("rogue", "rogue-ca", "/CN=batch-job", "DNS:batch-job"), 0);
    admin_token_ = testing::TestAdminKey();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // Certificates as make run and the harness make theirs (deploy/local/security.sh), valid for
  // a day, in this test's own folder (it replaces the served files).
  int Security(const std::string& function_and_args) {
    return Sh(absl::StrCat("bash -c 'source " STEPLEDGER_SOURCE_DIR "/deploy/local/security.sh && ",
                           function_and_args, "'"));
  }
  int MakeCa(const std::string& name) {
    return Security(absl::StrCat("security_ca ", dir_.string(), " ", name, " /CN=", name, " 1"));
  }
  int MakeLeaf(const std::string& name, const std::string& ca, const std::string& subject,
               const std::string& san) {
    return Security(absl::StrCat("security_leaf ", dir_.string(), " ", name, " ", ca, " ", subject,
                                 " ", san, " 1"));
  }

  std::unique_ptr<CollectorProcess> StartTlsCollector(const std::string& reload_interval = "1s",
                                                      bool client_ca = true) {
    auto collector = std::make_unique<CollectorProcess>(
        db_.url(), std::vector<std::string>{
                       "--tls-cert=" + Path("server.pem"), "--tls-key=" + Path("server.key"),
                       client_ca ? "--tls-client-ca=" + Path("ca.pem") : "--tls-client-ca=",
                       "--tls-reload-interval=" + reload_interval, "--otlp-http-listen="});
    EXPECT_TRUE(collector->Start()) << collector->Log();
    return collector;
  }

  std::shared_ptr<grpc::Channel> Channel(const CollectorProcess& collector,
                                         client::ConnectionOptions options) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        client::CollectorCredentials(options);
    EXPECT_TRUE(creds.ok()) << creds.status();
    return grpc::CreateChannel(collector.target(), *creds);
  }

  static grpc::StatusCode Check(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = v1::Budget::NewStub(channel);
    v1::CheckBudgetRequest req;
    *req.mutable_tags() = testing::SearchTags("r");
    v1::CheckBudgetResponse out;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->CheckBudget(&ctx, req, &out).error_code();
  }

  TestDatabase db_;
  std::filesystem::path dir_;
  std::string admin_token_;
};

TEST_F(TlsE2eTest, KeysOverTlsWorkAndPlaintextOrUntrustedClientsAreRefused) {
  std::unique_ptr<CollectorProcess> collector = StartTlsCollector();
  EXPECT_THAT(collector->Log(), HasSubstr("mode=tls+mtls"));
  // TLS and a key.
  EXPECT_EQ(Check(Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_})),
            grpc::StatusCode::OK);
  // TLS, no key.
  EXPECT_EQ(Check(Channel(*collector, {.ca_cert_path = Path("ca.pem")})),
            grpc::StatusCode::UNAUTHENTICATED);
  // Plaintext to a TLS listener: no call gets through (gRPC reports the broken connection as
  // UNAVAILABLE or, when it reads the TLS alert as HTTP/2, INVALID_ARGUMENT).
  const grpc::StatusCode plaintext = Check(Channel(*collector, {.api_key = admin_token_}));
  EXPECT_TRUE(plaintext == grpc::StatusCode::UNAVAILABLE ||
              plaintext == grpc::StatusCode::INVALID_ARGUMENT)
      << plaintext;
  // A server certificate from a CA the client does not trust: no connection.
  EXPECT_EQ(
      Check(Channel(*collector, {.ca_cert_path = Path("rogue-ca.pem"), .api_key = admin_token_})),
      grpc::StatusCode::UNAVAILABLE);
  // A client certificate from an untrusted CA: refused in the handshake.
  EXPECT_EQ(Check(Channel(*collector, {.ca_cert_path = Path("ca.pem"),
                                       .client_cert_path = Path("rogue.pem"),
                                       .client_key_path = Path("rogue.key")})),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(collector->Log().find(admin_token_), std::string::npos);
}

TEST_F(TlsE2eTest, TlsWithoutAClientCaServesKeysAndReloadsOnSighup) {
  std::unique_ptr<CollectorProcess> collector = StartTlsCollector("0s", /*client_ca=*/false);
  EXPECT_THAT(collector->Log(), HasSubstr("mode=tls\n"));
  EXPECT_EQ(Check(Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_})),
            grpc::StatusCode::OK);
  ASSERT_TRUE(collector->Signal(SIGHUP));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (collector->Log().find("TLS certificate unchanged") == std::string::npos &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(collector->Log(), HasSubstr("TLS certificate unchanged"));
  EXPECT_EQ(Check(Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_})),
            grpc::StatusCode::OK);
}

TEST_F(TlsE2eTest, ClientCertificateSubjectIsACredentialOnceItHasAnIdentity) {
  std::unique_ptr<CollectorProcess> collector = StartTlsCollector();
  const client::ConnectionOptions with_cert{.ca_cert_path = Path("ca.pem"),
                                            .client_cert_path = Path("client.pem"),
                                            .client_key_path = Path("client.key")};
  EXPECT_EQ(Check(Channel(*collector, with_cert)), grpc::StatusCode::UNAUTHENTICATED);
  auto keys = v1::Keys::NewStub(
      Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_}));
  v1::CreateKeyRequest req;
  req.set_name("batch job");
  req.add_roles("check");
  req.add_scopes("team:search");
  req.set_cert_subject("CN=batch-job");
  v1::CreateKeyResponse created;
  grpc::ClientContext ctx;
  ASSERT_TRUE(keys->CreateKey(&ctx, req, &created).ok());
  EXPECT_TRUE(created.token().empty());
  EXPECT_EQ(Check(Channel(*collector, with_cert)), grpc::StatusCode::OK);
}

// Sends a one-event batch with `sequence` over `stream` and reads its ack.
bool SendOne(grpc::ClientReaderWriter<v1::StepBatch, v1::BatchAck>& stream, uint64_t sequence) {
  v1::StepBatch batch;
  batch.set_sequence(sequence);
  *batch.add_events() = testing::SearchStep(absl::StrCat("e", sequence));
  v1::BatchAck ack;
  return stream.Write(batch) && stream.Read(&ack) && ack.accepted() == 1;
}

// Whether a new TLS connection to the collector is served a certificate whose subject
// contains `cn`.
bool ServesSubject(const CollectorProcess& collector, const std::string& cn) {
  const std::string port = collector.target().substr(collector.target().rfind(':') + 1);
  return Sh(absl::StrCat("echo | openssl s_client -connect 127.0.0.1:", port,
                         " -alpn h2 2>/dev/null | openssl x509 -noout -subject 2>/dev/null | "
                         "grep -q 'CN *= *",
                         cn, "$'")) == 0;
}

TEST_F(TlsE2eTest, SighupServesARotatedCertificateAtOnceAndOpenStreamsKeepWorking) {
  // No timer: only SIGHUP reloads, so the new certificate is served because of the signal.
  std::unique_ptr<CollectorProcess> collector = StartTlsCollector("0s");
  EXPECT_THAT(collector->Log(),
              HasSubstr("msg=\"TLS certificate loaded\" subject=\"CN=localhost\""));
  auto channel = Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_});
  auto stub = v1::Collector::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->StreamSteps(&ctx);
  ASSERT_TRUE(SendOne(*stream, 1));
  // Rotate: a new key and certificate (another subject) moved over the served files.
  ASSERT_EQ(MakeLeaf("rotated", "ca", "/CN=rotated", "DNS:localhost,IP:127.0.0.1"), 0);
  std::filesystem::rename(Path("rotated.key"), Path("server.key"));
  std::filesystem::rename(Path("rotated.pem"), Path("server.pem"));
  absl::SleepFor(absl::Seconds(2));
  EXPECT_TRUE(ServesSubject(*collector, "localhost")) << "nothing reloads before SIGHUP";
  ASSERT_TRUE(collector->Signal(SIGHUP));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!ServesSubject(*collector, "rotated") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(ServesSubject(*collector, "rotated")) << "a new connection sees the new certificate";
  EXPECT_THAT(collector->Log(),
              HasSubstr("msg=\"TLS certificate reloaded: new connections get it, open ones keep "
                        "theirs\" trigger=SIGHUP subject=\"CN=rotated\""));
  EXPECT_TRUE(SendOne(*stream, 2)) << "the stream opened before the rotation still works";
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  // A new channel (new handshake, rotated certificate, same CA) works.
  EXPECT_EQ(Check(Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_})),
            grpc::StatusCode::OK);
  // A broken replacement is refused on SIGHUP and the rotated pair stays served.
  std::ofstream(Path("server.pem")) << "not a certificate\n";
  ASSERT_TRUE(collector->Signal(SIGHUP));
  const absl::Time logged = absl::Now() + absl::Seconds(10);
  while (collector->Log().find("TLS certificate not reloaded") == std::string::npos &&
         absl::Now() < logged) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(collector->Log(), HasSubstr("not a PEM certificate"));
  EXPECT_TRUE(ServesSubject(*collector, "rotated"));
  EXPECT_EQ(collector->Log().find("PRIVATE KEY"), std::string::npos);
}

TEST_F(TlsE2eTest, RenewedCertificateIsServedWithoutDroppingOpenStreams) {
  std::unique_ptr<CollectorProcess> collector = StartTlsCollector();
  auto channel = Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_});
  auto stub = v1::Collector::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->StreamSteps(&ctx);
  ASSERT_TRUE(SendOne(*stream, 1));
  // Renew: a new certificate (another subject) moved over the served files.
  ASSERT_EQ(MakeLeaf("renewed", "ca", "/CN=renewed", "DNS:localhost,IP:127.0.0.1"), 0);
  std::filesystem::rename(Path("renewed.key"), Path("server.key"));
  std::filesystem::rename(Path("renewed.pem"), Path("server.pem"));
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!ServesSubject(*collector, "renewed") && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_TRUE(ServesSubject(*collector, "renewed"))
      << "new connections get the renewed certificate";
  EXPECT_TRUE(SendOne(*stream, 2)) << "the stream opened before the renewal still works";
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  // And a new channel (new handshake, renewed certificate) works.
  EXPECT_EQ(Check(Channel(*collector, {.ca_cert_path = Path("ca.pem"), .api_key = admin_token_})),
            grpc::StatusCode::OK);
}

TEST_F(TlsE2eTest, PlaintextIsOnlyServedOnLoopbackUnlessTheLouderFlagIsGiven) {
  // The one collector of the e2e tests asked for plaintext (every other serves TLS with keys).
  std::vector<std::string> remote_flags = testing::PlaintextFlags();
  remote_flags.push_back("--grpc-listen=0.0.0.0:" + std::to_string(testing::PickFreePort()));
  CollectorProcess remote(db_.url(), remote_flags);
  EXPECT_FALSE(remote.Start(std::chrono::seconds(10)));
  EXPECT_THAT(remote.Log(), HasSubstr("is not a loopback address"));
  CollectorProcess no_choice(db_.url(), {"--tls-cert=", "--tls-key="});
  EXPECT_FALSE(no_choice.Start(std::chrono::seconds(10)));
  EXPECT_THAT(no_choice.Log(), HasSubstr("gRPC needs TLS"));
}

}  // namespace
}  // namespace stepledger
