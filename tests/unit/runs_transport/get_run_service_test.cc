// Collector.GetRun on an in-process gRPC server (127.0.0.1, port 0) backed by the real
// CollectorService and RunQuery over an in-memory repository; and `stepledger run show`
// against it.
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/cli/run_command.h"
#include "client/lib/run_client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/domain/runs/run_query.h"
#include "server/transport/collector_service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_ledger_store.h"
#include "tests/fakes/no_auth.h"
#include "tests/unit/runs_transport/run_test_util.h"

namespace stepledger {
namespace {

using testing::kMicroUsd;
using testing::kTestRun;

// A loopback port nothing listens on: bound to port 0, then released.
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class GetRunServer {
 public:
  GetRunServer() {
    std::vector<std::unique_ptr<domain::ingest::LedgerStore>> stores;
    stores.push_back(std::make_unique<testing::FakeLedgerStore>());
    committer_ = std::make_unique<domain::ingest::GroupCommitter>(
        std::move(stores), domain::ingest::GroupCommitter::Options{}, nullptr);
    ingest_ = std::make_unique<domain::ingest::IngestService>(
        *committer_, clock_, domain::ingest::ValidationLimits{}, nullptr);
    query_ = std::make_unique<domain::runs::RunQuery>(repo_);
    service_ = std::make_unique<transport::CollectorService>(
        *ingest_, query_.get(), stepledger::testing::NoAuth(),
        transport::CollectorService::Options{});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
  }
  ~GetRunServer() {
    server_->Shutdown();
    service_.reset();
    committer_->Stop();
  }

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  testing::FakeRunRepository& repo() { return repo_; }

 private:
  testing::FakeClock clock_{absl::FromUnixSeconds(1'767'225'600)};
  testing::FakeRunRepository repo_;
  std::unique_ptr<domain::ingest::GroupCommitter> committer_;
  std::unique_ptr<domain::ingest::IngestService> ingest_;
  std::unique_ptr<domain::runs::RunQuery> query_;
  std::unique_ptr<transport::CollectorService> service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST(GetRunServiceTest, ReturnsTheRunTreeWithItsTotal) {
  GetRunServer server;
  server.repo().Put(kTestRun, testing::MixedRun());
  absl::StatusOr<v1::Run> run = client::GetRun(server.target(), kTestRun);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->total_cost_nano_usd(), 146'000 * kMicroUsd);
  ASSERT_EQ(run->roots_size(), 1);
  EXPECT_EQ(run->roots(0).children_size(), 3);
  EXPECT_EQ(run->orphans_size(), 1);
}

TEST(GetRunServiceTest, UnknownRunIsNotFound) {
  GetRunServer server;
  absl::StatusOr<v1::Run> run = client::GetRun(server.target(), "never-sent");
  EXPECT_EQ(run.status().code(), absl::StatusCode::kNotFound) << run.status();
}

TEST(GetRunServiceTest, EmptyOrOverlongRunIdIsInvalidArgumentNamingRunIdWithoutAQuery) {
  GetRunServer server;
  for (const std::string& id : {std::string(), std::string(129, 'x')}) {
    absl::StatusOr<v1::Run> run = client::GetRun(server.target(), id);
    EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument) << run.status();
    EXPECT_NE(run.status().message().find("run_id"), std::string::npos) << run.status();
  }
  EXPECT_EQ(server.repo().calls(), 0);
}

TEST(GetRunServiceTest, DatabaseOutageIsUnavailable) {
  GetRunServer server;
  server.repo().FailWith(absl::UnavailableError("load run steps: database unreachable"));
  absl::StatusOr<v1::Run> run = client::GetRun(server.target(), kTestRun);
  EXPECT_EQ(run.status().code(), absl::StatusCode::kUnavailable) << run.status();
}

TEST(GetRunServiceTest, ConcurrentCallersAreAllAnswered) {
  GetRunServer server;
  server.repo().Put(kTestRun, testing::MixedRun());
  auto stub = v1::Collector::NewStub(client::MakeRunChannel(server.target()));
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        absl::StatusOr<v1::Run> run = client::GetRun(*stub, kTestRun);
        if (run.ok() && run->total_cost_nano_usd() == 146'000 * kMicroUsd) ++ok;
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ok.load(), 200);
}

// ---- `stepledger run show` ----

struct CliRun {
  int exit_code;
  std::string out;
  std::string err;
};

CliRun RunShow(const std::string& target, const std::vector<std::string>& args) {
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
  const int code = client::RunRunCommand(client::CliContext{target, in, out, err}, args);
  return {code, out.str(), err.str()};
}

TEST(RunShowCommandTest, PrintsTheIndentedTreeTotalsOrphansAndInvalidSteps) {
  GetRunServer server;
  server.repo().Put(kTestRun, testing::MixedRun());
  CliRun r = RunShow(server.target(), {"show", kTestRun});
  ASSERT_EQ(r.exit_code, client::kExitOk) << r.err;
  const std::string& out = r.out;
  EXPECT_NE(out.find("charged to feature inbox-triage, team mail, tenant acme"), std::string::npos)
      << out;
  // Header, then the root at depth 0 and its children indented by two spaces per level.
  EXPECT_NE(out.find("  STEP "), std::string::npos) << out;
  EXPECT_NE(out.find("\n  r "), std::string::npos) << out;
  EXPECT_NE(out.find("\n    a [1/2] "), std::string::npos) << out;
  EXPECT_NE(out.find("\n    a2 [2/2] "), std::string::npos) << out;
  EXPECT_NE(out.find("\n      c "), std::string::npos) << out;
  EXPECT_NE(out.find("unpriced"), std::string::npos) << out;  // t's own cost
  EXPECT_NE(out.find("inherited"), std::string::npos) << out;
  EXPECT_NE(out.find("complete+drift"), std::string::npos) << out;  // c
  EXPECT_NE(out.find("search-platform"), std::string::npos) << out;
  EXPECT_NE(out.find("$0.135000"), std::string::npos) << out;  // r's subtree
  EXPECT_NE(out.find("total cost    $0.146000"), std::string::npos) << out;
  EXPECT_NE(out.find("pending 1"), std::string::npos) << out;
  EXPECT_NE(out.find("parent 'gone' never seen: 2 step(s), $0.010000"), std::string::npos) << out;
  EXPECT_NE(out.find("x  self_parent  $0.001000"), std::string::npos) << out;
}

TEST(RunShowCommandTest, JsonIsTheRunInProtobufJson) {
  GetRunServer server;
  server.repo().Put(kTestRun, testing::MixedRun());
  CliRun r = RunShow(server.target(), {"show", kTestRun, "--json"});
  ASSERT_EQ(r.exit_code, client::kExitOk) << r.err;
  v1::Run parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  absl::StatusOr<v1::Run> direct = client::GetRun(server.target(), kTestRun);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(parsed.SerializeAsString(), direct->SerializeAsString());
  EXPECT_NE(r.out.find("\"totalCostNanoUsd\":\"146000000\""), std::string::npos) << r.out;
}

TEST(RunShowCommandTest, ExitStatusesSayWhatWentWrong) {
  GetRunServer server;
  CliRun missing = RunShow(server.target(), {"show", "never-sent"});
  EXPECT_EQ(missing.exit_code, client::kExitNotFound);
  EXPECT_NE(missing.err.find("run 'never-sent' not found"), std::string::npos) << missing.err;

  // Nothing listens on a port just released.
  const std::string nowhere = "127.0.0.1:" + std::to_string(UnusedPort());
  CliRun down = RunShow(nowhere, {"show", kTestRun, "--timeout", "5"});
  EXPECT_EQ(down.exit_code, client::kExitTransport) << down.err;

  EXPECT_EQ(RunShow(server.target(), {}).exit_code, client::kExitUsage);
  EXPECT_EQ(RunShow(server.target(), {"show"}).exit_code, client::kExitUsage);
  EXPECT_EQ(RunShow(server.target(), {"list"}).exit_code, client::kExitUsage);
  EXPECT_EQ(RunShow(server.target(), {"show", "a", "--frobnicate"}).exit_code, client::kExitUsage);
  EXPECT_EQ(RunShow(server.target(), {"show", std::string(200, 'x')}).exit_code,
            client::kExitUsage);  // refused by the collector as INVALID_ARGUMENT
  CliRun help = RunShow(server.target(), {"--help"});
  EXPECT_EQ(help.exit_code, client::kExitOk);
  EXPECT_NE(help.out.find("usage: stepledger run show"), std::string::npos);
}

TEST(RunShowFormatTest, DollarsHaveSixDecimalsRoundedHalfAwayFromZero) {
  EXPECT_EQ(client::FormatDollars(0), "$0.000000");
  EXPECT_EQ(client::FormatDollars(499), "$0.000000");
  EXPECT_EQ(client::FormatDollars(500), "$0.000001");
  EXPECT_EQ(client::FormatDollars(1'234'567'890), "$1.234568");
  EXPECT_EQ(client::FormatDollars(12 * 1'000'000'000LL), "$12.000000");
  EXPECT_EQ(client::FormatDollars(-1'500), "-$0.000002");
  EXPECT_EQ(client::FormatDollars(INT64_MIN), "-$9223372036.854776");
}

TEST(RunShowFormatTest, TokensSumKnownBucketsAndUnknownIsAQuestionMark) {
  v1::Usage u;
  EXPECT_EQ(client::FormatTokens(u), "?");
  u.set_output_tokens(0);
  EXPECT_EQ(client::FormatTokens(u), "0");  // known zero is not unknown
  u.set_input_uncached_tokens(100);
  u.set_reasoning_tokens(25);
  EXPECT_EQ(client::FormatTokens(u), "125");
}

}  // namespace
}  // namespace stepledger
