// budget_scale_load: the load side of bench/budget_scale (see run.sh). Plaintext gRPC to a
// collector on loopback.
//
//   budget_scale_load events TARGET EVENTS TENANTS TENANT_BASE
//       Streams EVENTS one-step runs over 8 streams (batches of 500), each charged to one of
//       the benchmark caps' features and teams and to tenant "scale-<TENANT_BASE + i % TENANTS>"
//       (no cap watches those). Prints "events_per_second=R seconds=S"; exits 1 unless every
//       event was acked.
//   budget_scale_load put-caps TARGET N PREFIX
//       N PutBudget calls back to back, each a new monthly tenant cap on key "PREFIX-<i>"
//       (SIGTERM stops it early). Prints how many, the total seconds and the per-call p50, p99
//       and max in milliseconds.
//   budget_scale_load checks TARGET SECONDS THREADS
//       THREADS closed-loop CheckBudget clients for SECONDS (the first 10% not counted), with
//       the tags of bench/budget_check (a feature, its team and a tenant the caps watch).
//       Prints calls/s and the p50 and p99 latency in microseconds.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/lib/send_all.h"
#include "grpcpp/grpcpp.h"
#include "stepledger/v1/budget.grpc.pb.h"

namespace {

// As bench/budget_check/budget_check_load.cc's caps (load_caps.sh loads them).
constexpr int kFeatures = 2000;
constexpr int kTeams = 200;
constexpr int kTenants = 7000;

volatile std::sig_atomic_t stop_requested = 0;
void RequestStop(int) { stop_requested = 1; }

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  args.SetInt("stepledger.bench.channel", index);  // one connection per channel
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int Events(const std::string& target, int n, int tenants, int tenant_base) {
  std::mt19937_64 rng(42);
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<stepledger::v1::StepEvent> events(n);
  for (int i = 0; i < n; ++i) {
    stepledger::v1::StepEvent& e = events[i];
    const int f = static_cast<int>(rng() % kFeatures);
    e.set_event_id(absl::StrCat("scale-", now, "-", tenant_base, "-", i));
    auto* t = e.mutable_tags();
    t->set_feature(absl::StrCat("feat-", f));
    t->set_team(absl::StrCat("team-", f % kTeams));
    t->set_workload_class(stepledger::v1::WORKLOAD_CLASS_INTERACTIVE);
    t->set_tenant(absl::StrCat("scale-", tenant_base + i % tenants));
    t->set_environment(stepledger::v1::ENVIRONMENT_PRODUCTION);
    t->set_parent_run_id(absl::StrCat("scale-run-", now, "-", tenant_base, "-", i));
    e.set_step_id("root");
    e.set_kind(stepledger::v1::STEP_KIND_MODEL_CALL);
    e.set_name("synthesis");
    e.set_provider("openai");
    e.set_model("gpt-4o-mini");
    e.mutable_usage()->set_input_uncached_tokens(200 + rng() % 4000);
    e.mutable_usage()->set_output_tokens(20 + rng() % 800);
    e.set_cost_nano_usd(10000 + rng() % 100000);
    e.set_status("ok");
    e.set_attempt(1);
    e.mutable_started_at()->set_seconds(now - static_cast<int64_t>(rng() % 600));
    e.mutable_ended_at()->set_seconds(e.started_at().seconds() + 1);
  }
  stepledger::client::SendOptions options;
  options.streams = 8;
  options.stream.batch_size = 500;
  options.stream.max_in_flight = 8;
  const absl::Time start = absl::Now();
  const stepledger::client::StreamResult result =
      stepledger::client::SendAll(target, events, options);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const int64_t acked = result.totals.accepted + result.totals.duplicates;
  std::printf("events_per_second=%.0f seconds=%.2f acked=%lld\n", acked / seconds, seconds,
              static_cast<long long>(acked));
  if (!result.all_acked() || result.totals.rejected != 0) {
    std::fprintf(stderr, "events: not everything acked: %s\n", result.status.ToString().c_str());
    return 1;
  }
  return 0;
}

int PutCaps(const std::string& target, int n, const std::string& prefix) {
  auto stub = stepledger::v1::Budget::NewStub(NewChannel(target, 0));
  std::vector<double> ms;
  ms.reserve(n);
  std::signal(SIGTERM, RequestStop);
  const absl::Time start = absl::Now();
  for (int i = 0; i < n && stop_requested == 0; ++i) {
    stepledger::v1::PutBudgetRequest request;
    request.set_changed_by("bench");
    stepledger::v1::Cap* cap = request.mutable_cap();
    cap->set_id(absl::StrCat(prefix, "-", i));
    cap->set_scope(stepledger::v1::SCOPE_TENANT);
    cap->set_key(absl::StrCat(prefix, "-", i));
    cap->set_environment(stepledger::v1::ENVIRONMENT_PRODUCTION);
    cap->set_period(stepledger::v1::PERIOD_MONTHLY);
    cap->set_limit_nano_usd(500'000'000'000);
    cap->set_owner("bench-owner");
    cap->set_signed_off_by("bench-signoff");
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    stepledger::v1::Cap stored;
    const absl::Time t0 = absl::Now();
    const grpc::Status status = stub->PutBudget(&context, request, &stored);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    if (!status.ok()) {
      std::fprintf(stderr, "put-caps: %s\n", status.error_message().c_str());
      return 1;
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("caps=%zu seconds=%.2f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", ms.size(), seconds,
              Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0));
  return 0;
}

int Checks(const std::string& target, double seconds, int threads) {
  std::atomic<bool> stop{false};
  absl::Mutex mu;
  std::vector<double> us;
  int64_t calls = 0;
  const absl::Time start = absl::Now();
  const absl::Time count_from = start + absl::Seconds(seconds * 0.1);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto stub = stepledger::v1::Budget::NewStub(NewChannel(target, t % 4));
      std::mt19937_64 rng(1000 + t);
      std::vector<double> mine;
      int64_t my_calls = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        stepledger::v1::CheckBudgetRequest request;
        const int f = static_cast<int>(rng() % kFeatures);
        auto* tags = request.mutable_tags();
        tags->set_feature(absl::StrCat("feat-", f));
        tags->set_team(absl::StrCat("team-", f % kTeams));
        tags->set_workload_class(stepledger::v1::WORKLOAD_CLASS_INTERACTIVE);
        tags->set_tenant(absl::StrCat("tenant-", rng() % kTenants));
        tags->set_environment(stepledger::v1::ENVIRONMENT_PRODUCTION);
        tags->set_parent_run_id(absl::StrCat("check-run-", rng()));
        request.set_estimated_cost_nano_usd(1'000'000 + static_cast<int64_t>(rng() % 1'000'000));
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        stepledger::v1::CheckBudgetResponse response;
        const absl::Time t0 = absl::Now();
        const grpc::Status status = stub->CheckBudget(&context, request, &response);
        const absl::Time t1 = absl::Now();
        if (!status.ok()) {
          std::fprintf(stderr, "checks: %s\n", status.error_message().c_str());
          std::exit(1);
        }
        if (t0 >= count_from) {
          mine.push_back(absl::ToDoubleMicroseconds(t1 - t0));
          ++my_calls;
        }
      }
      absl::MutexLock lock(&mu);
      us.insert(us.end(), mine.begin(), mine.end());
      calls += my_calls;
    });
  }
  absl::SleepFor(absl::Seconds(seconds));
  stop = true;
  for (std::thread& t : pool) t.join();
  std::printf("checks_per_second=%.0f p50_us=%.0f p99_us=%.0f threads=%d\n",
              calls / (seconds * 0.9), Percentile(us, 0.5), Percentile(us, 0.99), threads);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "events" && argc == 6) {
    return Events(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  }
  if (mode == "put-caps" && argc == 5) return PutCaps(argv[2], std::atoi(argv[3]), argv[4]);
  if (mode == "checks" && argc == 5) {
    return Checks(argv[2], std::atof(argv[3]), std::atoi(argv[4]));
  }
  std::fprintf(stderr,
               "usage: budget_scale_load events TARGET EVENTS TENANTS TENANT_BASE\n"
               "       budget_scale_load put-caps TARGET N PREFIX\n"
               "       budget_scale_load checks TARGET SECONDS THREADS\n");
  return 64;
}
