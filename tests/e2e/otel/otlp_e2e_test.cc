// E2E for OTLP ingestion and the standard gRPC services (issue 18): a real collector and
// PostgreSQL; an agent run exported over OTLP/gRPC is read back with Collector.GetRun and
// asserted exactly; health follows the database.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "client/lib/run_client.h"
#include "client/lib/step_stream_client.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

namespace otlp = opentelemetry::proto;
using testing::CollectorProcess;
using testing::TestDatabase;

constexpr char kTraceHex[] = "5b8efff798038103d269b633813fc60c";

std::string Bytes(const std::string& hex) { return absl::HexStringToBytes(hex); }

void Attr(google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* attrs,
          const std::string& key, const std::string& value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}
void Attr(google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* attrs,
          const std::string& key, int64_t value) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

otlp::trace::v1::Span* AddSpan(otlp::trace::v1::ScopeSpans* scope, const std::string& id,
                               const std::string& parent, const std::string& name) {
  auto* span = scope->add_spans();
  span->set_trace_id(Bytes(kTraceHex));
  span->set_span_id(Bytes(id));
  if (!parent.empty()) span->set_parent_span_id(Bytes(parent));
  span->set_name(name);
  const uint64_t now = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  span->set_start_time_unix_nano(now - 1'000'000'000);
  span->set_end_time_unix_nano(now);
  return span;
}

// An invoke_agent root with two chat calls (cache and reasoning tokens; older names), a tool
// call, an embedding without a cost, a plain HTTP span (not stored) and a span whose
// environment is not one of stepledger's (quarantined).
otlp::collector::trace::v1::ExportTraceServiceRequest AgentRun() {
  otlp::collector::trace::v1::ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* res = rs->mutable_resource()->mutable_attributes();
  Attr(res, "service.name", "triage-agent");
  Attr(res, "stepledger.feature", "inbox-triage");
  Attr(res, "stepledger.team", "mail");
  Attr(res, "stepledger.tenant", "acme");
  Attr(res, "stepledger.workload_class", "interactive");
  Attr(res, "deployment.environment.name", "production");
  auto* scope = rs->add_scope_spans();
  scope->mutable_scope()->set_name("test");
  auto* agent = AddSpan(scope, "a000000000000001", "", "invoke_agent triage");
  Attr(agent->mutable_attributes(), "gen_ai.operation.name", "invoke_agent");
  Attr(agent->mutable_attributes(), "gen_ai.usage.input_tokens", 1250);  // its children's sum
  auto* chat = AddSpan(scope, "a000000000000002", "a000000000000001", "chat gpt-4o");
  Attr(chat->mutable_attributes(), "gen_ai.operation.name", "chat");
  Attr(chat->mutable_attributes(), "gen_ai.provider.name", "openai");
  Attr(chat->mutable_attributes(), "gen_ai.request.model", "gpt-4o");
  Attr(chat->mutable_attributes(), "gen_ai.response.model", "gpt-4o-2024-08-06");
  Attr(chat->mutable_attributes(), "gen_ai.usage.input_tokens", 1200);
  Attr(chat->mutable_attributes(), "gen_ai.usage.cache_read.input_tokens", 1000);
  Attr(chat->mutable_attributes(), "gen_ai.usage.output_tokens", 300);
  Attr(chat->mutable_attributes(), "gen_ai.usage.reasoning.output_tokens", 100);
  Attr(chat->mutable_attributes(), "stepledger.cost_usd", "0.0042");
  chat->mutable_status()->set_code(otlp::trace::v1::Status::STATUS_CODE_OK);
  auto* http = AddSpan(scope, "a000000000000009", "a000000000000002", "POST");
  Attr(http->mutable_attributes(), "http.request.method", "POST");
  auto* tool = AddSpan(scope, "a000000000000003", "a000000000000001", "execute_tool web_search");
  Attr(tool->mutable_attributes(), "gen_ai.operation.name", "execute_tool");
  Attr(tool->mutable_attributes(), "gen_ai.tool.name", "web_search");
  Attr(tool->mutable_attributes(), "stepledger.tool_owner_team", "search-infra");
  auto* tool_cost = tool->add_attributes();
  tool_cost->set_key("stepledger.cost_usd");
  tool_cost->mutable_value()->set_double_value(0.001);
  auto* chat2 = AddSpan(scope, "a000000000000004", "a000000000000001", "chat");
  Attr(chat2->mutable_attributes(), "gen_ai.operation.name", "chat");
  Attr(chat2->mutable_attributes(), "gen_ai.system", "anthropic");
  Attr(chat2->mutable_attributes(), "gen_ai.request.model", "claude-test");
  Attr(chat2->mutable_attributes(), "gen_ai.usage.prompt_tokens", 50);
  Attr(chat2->mutable_attributes(), "gen_ai.usage.completion_tokens", 10);
  Attr(chat2->mutable_attributes(), "stepledger.cost_usd", "0.0015");
  auto* embed = AddSpan(scope, "a000000000000005", "a000000000000001", "embeddings");
  Attr(embed->mutable_attributes(), "gen_ai.operation.name", "embeddings");
  Attr(embed->mutable_attributes(), "gen_ai.request.model", "no-such-embedding-model");
  Attr(embed->mutable_attributes(), "gen_ai.usage.input_tokens", 64);
  auto* bad = AddSpan(scope, "a000000000000006", "a000000000000001", "chat");
  Attr(bad->mutable_attributes(), "gen_ai.operation.name", "chat");
  Attr(bad->mutable_attributes(), "deployment.environment.name", "dev");
  Attr(bad->mutable_attributes(), "stepledger.cost_usd", "0.5");
  return request;
}

const v1::RunNode* Child(const v1::RunNode& node, const std::string& step_id) {
  for (const auto& c : node.children()) {
    if (c.step_id() == step_id) return &c;
  }
  return nullptr;
}

// Health/Check through a generic stub: the request is empty; the response's field 1 is the
// status enum (1 SERVING, 2 NOT_SERVING).
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer request;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  (void)response.Dump(&slices);
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : 0;
}

bool WaitForHealth(const std::shared_ptr<grpc::Channel>& channel, int want) {
  for (int i = 0; i < 100; ++i) {
    if (HealthStatus(channel) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Span ids of the agent run's steps (the JS SDK picks its own, found by step kind and name).
struct RunIds {
  std::string root, chat, tool, chat2, embed;
};

// Asserts the stored agent run exactly: what both the hand-made request and the JS SDK send.
void ExpectAgentRun(const std::string& target, const std::string& trace_id) {
  absl::StatusOr<v1::Run> run = client::GetRun(target, trace_id);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->roots_size(), 1);
  RunIds ids;
  ids.root = run->roots(0).step_id();
  for (const auto& c : run->roots(0).children()) {
    if (c.kind() == v1::STEP_KIND_MODEL_CALL && c.provider() == "openai") ids.chat = c.step_id();
    if (c.kind() == v1::STEP_KIND_MODEL_CALL && c.provider() == "anthropic")
      ids.chat2 = c.step_id();
    if (c.kind() == v1::STEP_KIND_TOOL_CALL) ids.tool = c.step_id();
    if (c.kind() == v1::STEP_KIND_EMBEDDING) ids.embed = c.step_id();
  }
  EXPECT_EQ(run->root_step_id(), ids.root);
  EXPECT_EQ(run->step_count(), 5);  // the HTTP span is not stored, the bad one is quarantined
  EXPECT_EQ(run->total_cost_nano_usd(), 4'200'000 + 1'000'000 + 1'500'000);
  EXPECT_EQ(run->unpriced_steps(), 1);
  EXPECT_EQ(run->orphans_size(), 0);
  EXPECT_EQ(run->charged_tags().feature(), "inbox-triage");
  const v1::RunNode& root = run->roots(0);
  EXPECT_EQ(root.name(), "invoke_agent triage");
  EXPECT_EQ(root.kind(), v1::STEP_KIND_OTHER);
  EXPECT_EQ(root.own_cost_nano_usd(), 0);  // structure: its usage is its children's
  EXPECT_EQ(root.subtree_cost_nano_usd(), 6'700'000);
  EXPECT_EQ(root.children_size(), 4);
  EXPECT_EQ(root.event_id(), absl::StrCat("otlp-", trace_id, "-", root.step_id()));

  const v1::RunNode* chat = Child(root, ids.chat);
  ASSERT_NE(chat, nullptr);
  EXPECT_EQ(chat->kind(), v1::STEP_KIND_MODEL_CALL);
  EXPECT_EQ(chat->model(), "gpt-4o-2024-08-06");
  EXPECT_EQ(chat->provider(), "openai");
  EXPECT_EQ(chat->own_cost_nano_usd(), 4'200'000);
  EXPECT_EQ(chat->usage().input_uncached_tokens(), 200);
  EXPECT_EQ(chat->usage().cache_read_tokens(), 1000);
  EXPECT_FALSE(chat->usage().has_cache_write_tokens());
  EXPECT_EQ(chat->usage().output_tokens(), 200);
  EXPECT_EQ(chat->usage().reasoning_tokens(), 100);
  EXPECT_EQ(chat->status(), "ok");
  EXPECT_EQ(chat->children_size(), 0);
  EXPECT_EQ(chat->attribution_status(), "complete");

  const v1::RunNode* tool = Child(root, ids.tool);
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->kind(), v1::STEP_KIND_TOOL_CALL);
  EXPECT_EQ(tool->tool_name(), "web_search");
  EXPECT_EQ(tool->tool_owner_team(), "search-infra");
  EXPECT_EQ(tool->own_cost_nano_usd(), 1'000'000);

  const v1::RunNode* chat2 = Child(root, ids.chat2);
  ASSERT_NE(chat2, nullptr);
  EXPECT_EQ(chat2->provider(), "anthropic");
  EXPECT_EQ(chat2->usage().input_uncached_tokens(), 50);
  EXPECT_EQ(chat2->usage().output_tokens(), 10);
  EXPECT_FALSE(chat2->usage().has_reasoning_tokens());
  EXPECT_EQ(chat2->own_cost_nano_usd(), 1'500'000);

  const v1::RunNode* embed = Child(root, ids.embed);
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->kind(), v1::STEP_KIND_EMBEDDING);
  EXPECT_FALSE(embed->has_own_cost_nano_usd());
  EXPECT_EQ(embed->usage().input_uncached_tokens(), 64);
}

TEST(OtlpE2e, ExportedAgentRunIsStoredAsAPricedTreeAndReExportIsHarmless) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();
  auto channel = client::MakeCollectorChannel(collector.target());
  auto stub = otlp::collector::trace::v1::TraceService::NewStub(channel);

  // The same request twice, as an exporter retrying after a lost response would send it.
  const otlp::collector::trace::v1::ExportTraceServiceRequest request = AgentRun();
  for (int round = 0; round < 2; ++round) {
    grpc::ClientContext ctx;
    otlp::collector::trace::v1::ExportTraceServiceResponse response;
    grpc::Status status = stub->Export(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.partial_success().rejected_spans(), 1);
    EXPECT_TRUE(absl::StrContains(response.partial_success().error_message(),
                                  "span a000000000000006 tags.environment"))
        << response.partial_success().error_message();
  }

  ExpectAgentRun(collector.target(), kTraceHex);

  // The rejected span is kept in quarantine, once, with its reason.
  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  pqxx::result q = tx.exec("SELECT count(*) FROM quarantine WHERE event_id = 'otlp-" +
                           std::string(kTraceHex) + "-a000000000000006'");
  EXPECT_EQ(q[0][0].as<int64_t>(), 1);
}

// Runs tests/e2e/otel/js/emit_agent_run.mjs with the real OpenTelemetry JavaScript SDK
// (installed by `make deps`) against `target` with `protocol`; returns the run's trace id.
std::string EmitWithJsSdk(const std::string& target, const std::string& protocol) {
  const std::string js_dir = STEPLEDGER_OTEL_JS_DIR;
  EXPECT_TRUE(std::ifstream(js_dir + "/node_modules/@opentelemetry/sdk-trace-base/package.json"))
      << "the OpenTelemetry JS SDK is not installed in " << js_dir << ": run `make deps`";
  const std::string log = "/tmp/stepledger-e2e-otel-js-" + std::to_string(getpid()) + ".log";
  // The exporters' standard settings: TLS trusting the test CA (OTLP/gRPC; OTLP/HTTP is
  // plaintext on loopback, docs/SECURITY.md) and the harness's admin key on every export, in
  // the environment rather than on a command line that every local user can read.
  setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", testing::TestCaCert().c_str(), 1);
  setenv("OTEL_EXPORTER_OTLP_HEADERS",
         ("authorization=Bearer%20" + testing::TestAdminKey()).c_str(), 1);
  const std::string command = "STEPLEDGER_OTEL_JS_DIR='" + js_dir + "' node '" +
                              STEPLEDGER_SOURCE_DIR "/tests/e2e/otel/js/emit_agent_run.mjs' " +
                              target + " " + protocol + " 2>" + log;
  FILE* out = popen(command.c_str(), "r");
  EXPECT_NE(out, nullptr);
  if (out == nullptr) return "";
  std::string stdout_text;
  char buf[256];
  while (fgets(buf, sizeof(buf), out) != nullptr) stdout_text += buf;
  const int rc = pclose(out);
  std::ifstream err(log);
  const std::string stderr_text((std::istreambuf_iterator<char>(err)),
                                std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << stderr_text;
  const size_t at = stdout_text.find("\"traceId\":\"");
  EXPECT_NE(at, std::string::npos) << stdout_text << stderr_text;
  return at == std::string::npos ? "" : stdout_text.substr(at + 11, 32);
}

// The same run, sent by the real OpenTelemetry JavaScript SDK over each OTLP transport: one
// export per span, children first, as the SDK sends them.
TEST(OtlpE2e, OpenTelemetryJsSdkAgentRunIsStoredExactlyOverEveryTransport) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();
  const std::string http = "127.0.0.1:" + std::to_string(collector.otlp_http_port());
  for (const auto& [protocol, target] : std::vector<std::pair<std::string, std::string>>{
           {"grpc", collector.target()}, {"http-proto", http}, {"http-json", http}}) {
    SCOPED_TRACE(protocol);
    const std::string trace_id = EmitWithJsSdk(target, protocol);
    ASSERT_EQ(trace_id.size(), 32u);
    ExpectAgentRun(collector.target(), trace_id);
  }
}

TEST(OtlpE2e, HealthIsServingOnlyWhileTheDatabaseIsReachable) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();
  auto channel = client::MakeCollectorChannel(collector.target());
  EXPECT_TRUE(WaitForHealth(channel, 1)) << "never SERVING";

  // The collector's database goes away: health must say so.
  {
    pqxx::connection admin(testing::BaseTestDatabaseUrl());
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE " + db.name() + " WITH (FORCE)");
  }
  EXPECT_TRUE(WaitForHealth(channel, 2)) << "still SERVING without a database";
}

}  // namespace
}  // namespace stepledger
