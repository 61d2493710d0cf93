// OtlpTraceService on an in-process server (127.0.0.1, port 0) over the real IngestService and
// GroupCommitter, with an in-memory ledger store.
#include "server/transport/otlp_trace_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "server/domain/clock.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "server/domain/ingest/ingest_service.h"
#include "stepledger/internal/rpc_status_wire.pb.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_ledger_store.h"
#include "tests/fakes/no_auth.h"

namespace stepledger::transport {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

class OtlpServer {
 public:
  explicit OtlpServer(size_t max_queued_events = 1000, size_t max_events_per_batch = 1000,
                      domain::ingest::IngestRateLimiter* rate_limiter = nullptr) {
    auto store = std::make_unique<testing::FakeLedgerStore>();
    store_ = store.get();
    std::vector<std::unique_ptr<domain::ingest::LedgerStore>> stores;
    stores.push_back(std::move(store));
    committer_ = std::make_unique<domain::ingest::GroupCommitter>(
        std::move(stores),
        domain::ingest::GroupCommitter::Options{.max_queued_events = max_queued_events}, nullptr);
    domain::ingest::ValidationLimits limits;
    limits.max_events_per_batch = max_events_per_batch;
    ingest_ = std::make_unique<domain::ingest::IngestService>(*committer_, clock_, limits, nullptr);
    service_ =
        std::make_unique<OtlpTraceService>(*ingest_, stepledger::testing::NoAuth(),
                                           OtlpTraceService::Options{.rate_limiter = rate_limiter});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = collector::TraceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
  }
  ~OtlpServer() {
    server_->Shutdown();
    committer_.reset();
  }

  testing::FakeLedgerStore& store() { return *store_; }
  collector::TraceService::Stub& stub() { return *stub_; }

 private:
  domain::SystemClock clock_;
  testing::FakeLedgerStore* store_;
  std::unique_ptr<domain::ingest::GroupCommitter> committer_;
  std::unique_ptr<domain::ingest::IngestService> ingest_;
  std::unique_ptr<OtlpTraceService> service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<collector::TraceService::Stub> stub_;
};

// `n` chat spans of one trace, tagged on the resource (staging: no tag is required).
collector::ExportTraceServiceRequest Chats(int n, std::string environment = "staging") {
  collector::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* env = rs->mutable_resource()->add_attributes();
  env->set_key("deployment.environment.name");
  env->mutable_value()->set_string_value(environment);
  auto* scope = rs->add_scope_spans();
  for (int i = 1; i <= n; ++i) {
    auto* span = scope->add_spans();
    span->set_trace_id(absl::HexStringToBytes("0102030405060708090a0b0c0d0e0f10"));
    span->set_span_id(absl::HexStringToBytes(absl::StrCat("00000000000000", i < 10 ? "0" : "", i)));
    span->set_name("chat");
    auto* op = span->add_attributes();
    op->set_key("gen_ai.operation.name");
    op->mutable_value()->set_string_value("chat");
  }
  return request;
}

absl::Duration RetryDelayOf(const grpc::Status& status) {
  internal::RpcStatusWire details;
  if (!details.ParseFromString(status.error_details()) || details.details_size() != 1 ||
      details.details(0).type_url() != "type.googleapis.com/google.rpc.RetryInfo" ||
      details.code() != status.error_code()) {
    return absl::ZeroDuration();
  }
  internal::RetryInfoWire retry;
  if (!retry.ParseFromString(details.details(0).value())) return absl::ZeroDuration();
  return absl::Seconds(retry.retry_delay().seconds()) +
         absl::Nanoseconds(retry.retry_delay().nanos());
}

TEST(OtlpTraceService, ExportAnswersOnlyAfterTheCommit) {
  OtlpServer server;
  server.store().Hold();
  grpc::ClientContext ctx;
  collector::ExportTraceServiceResponse response;
  absl::Notification answered;
  grpc::Status status;
  const collector::ExportTraceServiceRequest request = Chats(3);
  server.stub().async()->Export(&ctx, &request, &response, [&](grpc::Status s) {
    status = std::move(s);
    answered.Notify();
  });
  server.store().WaitUntilHeld();
  EXPECT_FALSE(answered.HasBeenNotified());  // the writer holds the commit
  server.store().Release();
  answered.WaitForNotification();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(response.has_partial_success());
  EXPECT_EQ(server.store().stored(), 3u);
}

TEST(OtlpTraceService, RequestsLargerThanABatchAreCommittedInChunks) {
  OtlpServer server(/*max_queued_events=*/1000, /*max_events_per_batch=*/2);
  grpc::ClientContext ctx;
  collector::ExportTraceServiceResponse response;
  grpc::Status status = server.stub().Export(&ctx, Chats(5), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(server.store().stored(), 5u);
}

TEST(OtlpTraceService, FullQueueIsResourceExhaustedWithRetryInfo) {
  OtlpServer server(/*max_queued_events=*/2);
  grpc::ClientContext ctx;
  collector::ExportTraceServiceResponse response;
  grpc::Status status = server.stub().Export(&ctx, Chats(3), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(RetryDelayOf(status), absl::Seconds(1));
  EXPECT_EQ(server.store().stored(), 0u);
}

TEST(OtlpTraceService, UnavailableDatabaseIsUnavailableWithRetryInfo) {
  OtlpServer server;
  for (int i = 0; i < 5; ++i) server.store().FailNext(absl::UnavailableError("database down"));
  grpc::ClientContext ctx;
  collector::ExportTraceServiceResponse response;
  grpc::Status status = server.stub().Export(&ctx, Chats(1), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(RetryDelayOf(status), absl::Seconds(1));
}

TEST(OtlpTraceService, InvalidSpansArePartialSuccessNamingSpanAndField) {
  OtlpServer server;
  grpc::ClientContext ctx;
  collector::ExportTraceServiceResponse response;
  grpc::Status status = server.stub().Export(&ctx, Chats(2, "dev"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.partial_success().rejected_spans(), 2);
  EXPECT_TRUE(absl::StrContains(response.partial_success().error_message(),
                                "span 0000000000000001 tags.environment: unknown environment"))
      << response.partial_success().error_message();
  EXPECT_EQ(server.store().quarantined(), 2);
}

TEST(OtlpTraceService, SpansWithoutGenAiAreAcceptedAndNotStored) {
  OtlpServer server;
  collector::ExportTraceServiceRequest request = Chats(1);
  request.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->clear_attributes();
  grpc::ClientContext ctx;
  collector::ExportTraceServiceResponse response;
  grpc::Status status = server.stub().Export(&ctx, request, &response);
  EXPECT_TRUE(status.ok());
  EXPECT_FALSE(response.has_partial_success());
  EXPECT_EQ(server.store().stored(), 0u);
}

TEST(RejectionSummary, NamesTheFirstFewAndCountsTheRest) {
  std::vector<domain::ingest::Rejection> rejected;
  for (int i = 0; i < 7; ++i) {
    rejected.push_back({absl::StrCat("otlp-trace-span", i), "tags.team", "missing"});
  }
  const std::string summary = RejectionSummary(rejected, 2);
  EXPECT_EQ(summary,
            "7 span(s) rejected and quarantined: span span0 tags.team: missing; span span1 "
            "tags.team: missing; and 5 more");
}

// Over the caller's ingest rate nothing is stored and the answer says when to retry.
TEST(OtlpTraceService, OverTheIngestRateIsResourceExhaustedWithTheLimitersWait) {
  testing::FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  domain::ingest::IngestRateLimiter limiter(clock, {.events_per_second = 1, .burst = 5});
  OtlpServer server(/*max_queued_events=*/1000, /*max_events_per_batch=*/1000, &limiter);
  collector::ExportTraceServiceResponse response;
  grpc::ClientContext first;
  EXPECT_TRUE(server.stub().Export(&first, Chats(5), &response).ok());
  grpc::ClientContext second;
  const grpc::Status over = server.stub().Export(&second, Chats(3), &response);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << over.error_message();
  EXPECT_EQ(RetryDelayOf(over), absl::Seconds(3));  // 3 spans at 1/s
  EXPECT_EQ(server.store().stored(), 5u);
}

}  // namespace
}  // namespace stepledger::transport
