// otlp_load: exports N GenAI chat spans to a collector's OTLP/gRPC TraceService over C
// concurrent callers (requests of B spans each) and prints the acked spans/s end to end.
// Acked means committed: the collector answers Export only after the request's steps are.
//
//   otlp_load TARGET [SPANS=500000] [CALLERS=8] [BATCH=500]
//
// The spans are what an OpenTelemetry GenAI instrumentation emits for an agent's model calls
// (operation, provider, model, usage with cache reads, the six tags as resource attributes, a
// gateway-reported cost), 12 per trace, so each trace is one run of 12 steps, as in
// bench/ingest. Prints one line "acked_spans=N seconds=S spans_per_second=R ..." and exits
// non-zero if any request failed or any span was rejected.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace {

namespace otlp = opentelemetry::proto;
using otlp::collector::trace::v1::ExportTraceServiceRequest;
using otlp::collector::trace::v1::ExportTraceServiceResponse;
using otlp::collector::trace::v1::TraceService;

constexpr int kSpansPerTrace = 12;

void Add(google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* to, const std::string& key,
         const std::string& value) {
  auto* kv = to->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

void Add(google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* to, const std::string& key,
         int64_t value) {
  auto* kv = to->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

// 8-byte and 16-byte ids from numbers: unique per run of the benchmark (`salt`).
std::string Id(uint64_t high, uint64_t low, int bytes) {
  std::string id(bytes, '\0');
  for (int i = 0; i < bytes; ++i) {
    const uint64_t word = (bytes == 16 && i < 8) ? high : low;
    id[i] = static_cast<char>((word >> (8 * (7 - i % 8))) & 0xff);
  }
  return id;
}

// One request: spans [first, first + count), in one resource per feature/team/tenant group.
// A trace never straddles two requests (count is a multiple of kSpansPerTrace).
ExportTraceServiceRequest MakeRequest(int first, int count, uint64_t salt, int64_t now_ns,
                                      std::mt19937_64& rng) {
  static const char* kFeatures[] = {"inbox-triage",   "doc-qa",         "code-review",
                                    "meeting-notes",  "support-agent",  "sales-research",
                                    "search-summary", "contract-review"};
  static const char* kModels[] = {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-20250514",
                                  "claude-3-5-haiku-20241022", "o3-mini"};
  ExportTraceServiceRequest request;
  for (int t = first / kSpansPerTrace; t < (first + count) / kSpansPerTrace; ++t) {
    // A trace is one user task: its resource carries the task's tags, as an SDK's resource
    // attributes would.
    auto* resource_spans = request.add_resource_spans();
    auto* resource = resource_spans->mutable_resource()->mutable_attributes();
    const int f = static_cast<int>((static_cast<uint64_t>(t) * 2654435761u) % 8);
    Add(resource, "service.name", "bench-agent");
    Add(resource, "stepledger.feature", kFeatures[f]);
    Add(resource, "stepledger.team", absl::StrCat("team-", f / 2));
    Add(resource, "stepledger.tenant", absl::StrCat("tenant-", (t * 40503u) % 7000));
    Add(resource, "stepledger.workload_class", "interactive");
    Add(resource, "deployment.environment.name", "production");
    auto* spans = resource_spans->add_scope_spans()->mutable_spans();
    const std::string trace_id = Id(salt, static_cast<uint64_t>(t) + 1, 16);
    for (int s = 0; s < kSpansPerTrace; ++s) {
      auto* span = spans->Add();
      span->set_trace_id(trace_id);
      span->set_span_id(Id(0, (static_cast<uint64_t>(t) << 8) + s + 1, 8));
      if (s != 0) span->set_parent_span_id(Id(0, (static_cast<uint64_t>(t) << 8) + s / 3 + 1, 8));
      span->set_name("chat");
      span->set_kind(otlp::trace::v1::Span::SPAN_KIND_CLIENT);
      const int64_t start = now_ns - static_cast<int64_t>(rng() % 3600) * 1'000'000'000;
      span->set_start_time_unix_nano(start);
      span->set_end_time_unix_nano(start + 3'000'000'000);
      auto* a = span->mutable_attributes();
      const std::string model = kModels[rng() % 5];
      Add(a, "gen_ai.operation.name", "chat");
      Add(a, "gen_ai.provider.name", f % 2 == 0 ? "openai" : "anthropic");
      Add(a, "gen_ai.request.model", model);
      Add(a, "gen_ai.response.model", model);
      const int64_t cached = static_cast<int64_t>(rng() % 2000);
      Add(a, "gen_ai.usage.input_tokens", cached + 200 + static_cast<int64_t>(rng() % 4000));
      Add(a, "gen_ai.usage.cache_read.input_tokens", cached);
      Add(a, "gen_ai.usage.output_tokens", 20 + static_cast<int64_t>(rng() % 800));
      Add(a, "stepledger.cost_usd", absl::StrFormat("0.%06d", 10 + rng() % 5000));
    }
  }
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: otlp_load TARGET [SPANS] [CALLERS] [BATCH]\n");
    return 64;
  }
  const std::string target = argv[1];
  const int batch = (argc > 4 ? std::atoi(argv[4]) : 500) / kSpansPerTrace * kSpansPerTrace;
  const int spans_n = (argc > 2 ? std::atoi(argv[2]) : 500000) / batch * batch;
  const int callers = argc > 3 ? std::atoi(argv[3]) : 8;
  if (batch <= 0 || spans_n <= 0 || callers <= 0) {
    std::fprintf(stderr, "otlp_load: SPANS, CALLERS and BATCH must be positive (BATCH >= %d)\n",
                 kSpansPerTrace);
    return 64;
  }

  // Requests are built before the clock starts, as bench/ingest builds its events.
  std::mt19937_64 rng(1234);
  const uint64_t salt = std::random_device{}();
  const int64_t now_ns = absl::ToUnixNanos(absl::Now());
  std::vector<ExportTraceServiceRequest> requests;
  for (int first = 0; first < spans_n; first += batch)
    requests.push_back(MakeRequest(first, batch, salt, now_ns, rng));

  std::atomic<size_t> next{0};
  std::atomic<int64_t> acked{0}, rejected{0}, failed{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      // One channel per caller, as independent exporters would have.
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", c);  // distinct channels, not one shared subchannel
      auto stub = TraceService::NewStub(
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
      for (size_t i = next++; i < requests.size(); i = next++) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        ExportTraceServiceResponse response;
        const grpc::Status status = stub->Export(&context, requests[i], &response);
        if (!status.ok()) {
          std::fprintf(stderr, "otlp_load: request %zu: %s\n", i, status.error_message().c_str());
          ++failed;
          continue;
        }
        rejected += response.partial_success().rejected_spans();
        if (response.partial_success().rejected_spans() > 0)
          std::fprintf(stderr, "otlp_load: request %zu: %s\n", i,
                       response.partial_success().error_message().c_str());
        acked += batch - response.partial_success().rejected_spans();
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("acked_spans=%lld seconds=%.2f spans_per_second=%.0f callers=%d batch=%d\n",
              static_cast<long long>(acked.load()), seconds, acked.load() / seconds, callers,
              batch);
  if (failed > 0 || rejected > 0) {
    std::fprintf(stderr, "otlp_load: %lld requests failed, %lld spans rejected\n",
                 static_cast<long long>(failed.load()), static_cast<long long>(rejected.load()));
    return 1;
  }
  return 0;
}
