// budget_check_load: the load side of bench/budget_check (see run.sh).
//
//   budget_check_load caps
//       Prints the 10,000 benchmark caps as COPY text for the `budgets` table (columns: id,
//       scope, key, environment, period, limit_nano_usd, action, alert_threshold_bps, owner,
//       signed_off_by, shadow): 2,000 feature caps (daily), 200 team caps (monthly,
//       require_ack), 7,000 tenant caps (monthly) and 1 org cap (daily, require_ack): 9,201,
//       plus 799 monthly caps on the first features to make 10,000, as in
//       bench/budget_engine_bench.cc.
//   budget_check_load wait-caps TARGET N [TIMEOUT_SECONDS=60]
//       Polls ListBudgets until the collector holds at least N caps.
//   budget_check_load run CHECK_TARGET FLOOR_TARGET SECONDS CONCURRENCIES [SLICE_SECONDS=1]
//       For each concurrency C (comma-separated, e.g. 1,4,16,64): C closed-loop client threads
//       call CheckBudget on CHECK_TARGET ("check"), the same requests on FLOOR_TARGET's Check
//       RPC, which returns a canned response of the same shape without budget work ("canned"),
//       and FLOOR_TARGET's empty Echo RPC ("floor", the gRPC floor), SECONDS each, in slices of
//       about SLICE_SECONDS in rotating order, so that all three see the same machine (noise
//       from other processes falls on all kinds alike). Prints one line per (kind,
//       concurrency) and the ratios check/floor (the target), canned/floor and check/canned,
//       the first two with a 95% bootstrap interval over the rounds of slices.
//   budget_check_load paced CHECK_TARGET FLOOR_TARGET RATE SECONDS
//       Open loop: CheckBudget on CHECK_TARGET and the empty Echo on FLOOR_TARGET, each at RATE
//       calls/s for SECONDS, in alternating 1 s slices, every call sent at its scheduled time
//       whatever the calls before it are doing (gRPC's callback client API, no limit on the
//       calls in flight, 4 connections). A call's latency runs from its scheduled
//       send time to its answer, so a sender that falls behind counts against the latency
//       instead of slowing the load (no coordinated omission). Prints the offered and achieved
//       rate and p50/p99/p99.9 per kind. run.sh runs it at half the saturating rate (the
//       closed-loop check rate at the highest concurrency of the same run).
//
// Channels (both modes) take their credentials from the environment as every client of
// client/lib does (client/lib/credentials.h): plaintext by default; with STEPLEDGER_CA_CERT, TLS,
// and with STEPLEDGER_API_KEY[_FILE], the key on every call of every kind (the floor's server
// ignores it, so the floor is "the same client, no key check, no work").
//
// With BUDGET_BENCH_ONLY_DECIDING_CAP=1 every request (check and canned kinds, both modes) sets
// only_deciding_cap, so an answer carries at most the deciding cap's status; empty_server's
// canned answer is then its ALERT with that one cap. An answer that ignored the flag counts as
// an error.
//
// Requests: a uniformly random feature (and its team, feature i belongs to team i % 200) and a
// uniformly random tenant, interactive, production, a random run id and an estimate of
// $0.001..$0.50: every check matches 4 caps (feature, team, tenant, org), 5 for the features
// with a monthly cap too. No reservations. Each client thread makes 4,096 such requests before
// the slices and cycles through them; answers are parsed on a stack-backed arena.
// Each client thread uses its own channel among min(C, 4) channels (separate connections).
// The first 10% of each slice is warm-up and not counted.
//
// With BUDGET_BENCH_SERVER_PIDS=CHECK_PID,FLOOR_PID (run.sh sets it) the run also reports, per
// kind and concurrency, the CPU microseconds per call of the load client, of the server serving
// that kind and of everything else on the machine, and how idle the machine was (cpu_meter.h):
// with client and servers on the same cores, this says which side a gap between kinds is on.
#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/lib/credentials.h"
#include "cpu_meter.h"
#include "echo.grpc.pb.h"
#include "google/protobuf/arena.h"
#include "grpcpp/grpcpp.h"
#include "stepledger/v1/budget.grpc.pb.h"

namespace {

constexpr int kFeatures = 2000;
constexpr int kTeams = 200;
constexpr int kTenants = 7000;
constexpr int kMonthlyFeatureCaps = 799;  // 2,000 + 200 + 7,000 + 1 + 799 = 10,000 caps
constexpr int64_t kNanoPerUsd = 1'000'000'000;
// Distinct requests made ahead per client thread (cycled): enough that caches see a uniform
// spread over the 10,000 caps, as with fresh random requests.
constexpr int kRequestsPerThread = 4096;

// BUDGET_BENCH_ONLY_DECIDING_CAP=1 (see the top of the file).
const bool kOnlyDecidingCap = [] {
  const char* v = std::getenv("BUDGET_BENCH_ONLY_DECIDING_CAP");
  return v != nullptr && std::string(v) == "1";
}();

// What a check or canned answer must carry: every matching cap (4 or 5), or with
// only_deciding_cap at most the deciding one, and one exactly when something decided.
bool AnswerHasItsCaps(const stepledger::v1::CheckBudgetResponse& response) {
  if (!kOnlyDecidingCap) return response.caps_size() >= 4;
  return response.caps_size() == (response.deciding_cap_id().empty() ? 0 : 1);
}

std::string Feature(int i) { return absl::StrCat("feat-", i); }
std::string Team(int i) { return absl::StrCat("team-", i); }
std::string Tenant(int i) { return absl::StrCat("tenant-", i); }

int PrintCaps() {
  auto row = [](const std::string& id, const char* scope, const std::string& key,
                const char* period, int64_t limit_usd, const char* action, int bps) {
    std::printf("%s\t%s\t%s\tproduction\t%s\t%lld\t%s\t%d\tbench-owner\tbench-signoff\tf\n",
                id.c_str(), scope, key.c_str(), period,
                static_cast<long long>(limit_usd * kNanoPerUsd), action, bps);
  };
  for (int i = 0; i < kFeatures; ++i) {
    row(absl::StrCat("f-", Feature(i)), "feature", Feature(i), "daily", 200, "alert", 8000);
  }
  for (int i = 0; i < kMonthlyFeatureCaps; ++i) {
    row(absl::StrCat("fm-", Feature(i)), "feature", Feature(i), "monthly", 3000, "alert", 8000);
  }
  for (int i = 0; i < kTeams; ++i) {
    row(absl::StrCat("t-", Team(i)), "team", Team(i), "monthly", 20000, "require_ack", 8000);
  }
  for (int i = 0; i < kTenants; ++i) {
    row(absl::StrCat("x-", Tenant(i)), "tenant", Tenant(i), "monthly", 500, "alert", 9000);
  }
  row("org-emergency", "org", "*", "daily", 1'000'000, "require_ack", 9000);
  return 0;
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  // Distinct arguments and a local subchannel pool: each channel gets its own connection.
  args.SetInt("stepledger.bench.channel", index);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target,
                                   stepledger::client::CollectorCredentialsFromEnvironment(), args);
}

int WaitCaps(const std::string& target, int want, int timeout_seconds) {
  auto stub = stepledger::v1::Budget::NewStub(NewChannel(target, 0));
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout_seconds);
  int have = -1;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    stepledger::v1::ListBudgetsResponse response;
    const grpc::Status status =
        stub->ListBudgets(&context, stepledger::v1::ListBudgetsRequest(), &response);
    if (status.ok()) {
      have = response.caps_size();
      if (have >= want) {
        std::printf("caps loaded: %d\n", have);
        return 0;
      }
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  std::fprintf(stderr, "wait-caps: the collector holds %d caps, want %d\n", have, want);
  return 1;
}

struct Result {
  int64_t calls = 0;
  int64_t errors = 0;
  double seconds = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0;
  double Rate() const { return seconds > 0 ? calls / seconds : 0; }
};

double Percentile(std::vector<int64_t>& ns, double q) {
  if (ns.empty()) return 0;
  const size_t k = std::min(ns.size() - 1, static_cast<size_t>(q * (ns.size() - 1) + 0.5));
  std::nth_element(ns.begin(), ns.begin() + k, ns.end());
  return ns[k] / 1000.0;
}

// What one kind measured, merged over all its slices.
struct Samples {
  std::vector<int64_t> latencies_ns;
  int64_t errors = 0;
  double seconds = 0;                  // Measured time (warm-up excluded).
  int64_t all_calls = 0;               // Warm-up included: what `cpu` was spent on.
  stepledger::bench::CpuSnapshot cpu;  // CPU used during the slices, warm-up included.
  std::vector<double> slice_rates;     // Calls/s of each slice, in round order.

  Result Summarize() {
    Result r;
    r.calls = static_cast<int64_t>(latencies_ns.size());
    r.errors = errors;
    r.seconds = seconds;
    r.p50_us = Percentile(latencies_ns, 0.50);
    r.p99_us = Percentile(latencies_ns, 0.99);
    r.p999_us = Percentile(latencies_ns, 0.999);
    return r;
  }
};

// One call; false on an error or an answer of the wrong shape.
using Call = std::function<bool(absl::BitGen&)>;
// Makes client thread t's Call.
using MakeCall = std::function<Call(int)>;

// One closed-loop slice: `concurrency` threads, each calling back to back for `seconds`; the
// first 10% is warm-up (threads starting) and not counted.
void RunSlice(int concurrency, double seconds, const MakeCall& make_call,
              const stepledger::bench::CpuMeter& meter, Samples& into) {
  const stepledger::bench::CpuSnapshot cpu_before = meter.Read();
  const absl::Time start = absl::Now();
  const absl::Time measure_from = start + absl::Seconds(seconds * 0.1);
  const absl::Time end = start + absl::Seconds(seconds);
  std::vector<std::vector<int64_t>> latencies(concurrency);
  std::vector<int64_t> errors(concurrency, 0);
  std::vector<int64_t> all_calls(concurrency, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      Call call = make_call(t);
      absl::BitGen rng;
      latencies[t].reserve(1 << 14);
      while (true) {
        const absl::Time before = absl::Now();
        if (before >= end) break;
        const bool ok = call(rng);
        const absl::Time after = absl::Now();
        ++all_calls[t];
        if (before < measure_from) continue;
        if (!ok) {
          ++errors[t];
          continue;
        }
        latencies[t].push_back(absl::ToInt64Nanoseconds(after - before));
      }
    });
  }
  for (auto& th : threads) th.join();
  into.cpu += meter.Read() - cpu_before;
  for (int64_t n : all_calls) into.all_calls += n;
  size_t counted = 0;
  for (auto& l : latencies) {
    counted += l.size();
    into.latencies_ns.insert(into.latencies_ns.end(), l.begin(), l.end());
  }
  for (int64_t e : errors) into.errors += e;
  into.seconds += seconds * 0.9;
  into.slice_rates.push_back(static_cast<double>(counted) / (seconds * 0.9));
}

// A 95% percentile bootstrap interval for the ratio sum(a) / sum(b) of two kinds' per-round
// slice rates (equal slices: the ratio of their calls/s), resampling rounds. A round's slices of
// each kind run back to back, so a round is resampled whole: the interval says how much the ratio
// of this run could move from the slices alone, which is what tells a real difference from noise at
// the 0.8 target.
struct RatioInterval {
  double low = 0, high = 0;
};

RatioInterval BootstrapRatio(const std::vector<double>& a, const std::vector<double>& b) {
  RatioInterval e;
  const size_t n = std::min(a.size(), b.size());
  if (n == 0) return e;
  auto ratio_of = [&](auto pick) {
    double sa = 0, sb = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t r = pick();
      sa += a[r];
      sb += b[r];
    }
    return sb > 0 ? sa / sb : 0;
  };
  constexpr int kResamples = 4000;
  std::vector<double> ratios;
  ratios.reserve(kResamples);
  std::mt19937_64 rng(12345);  // Fixed: the same slices always give the same interval.
  std::uniform_int_distribution<size_t> any_round(0, n - 1);
  for (int i = 0; i < kResamples; ++i) {
    ratios.push_back(ratio_of([&] { return any_round(rng); }));
  }
  std::sort(ratios.begin(), ratios.end());
  e.low = ratios[static_cast<size_t>(0.025 * (kResamples - 1))];
  e.high = ratios[static_cast<size_t>(0.975 * (kResamples - 1))];
  return e;
}

// A realistic check: random feature (and its team), random tenant, interactive, production.
stepledger::v1::CheckBudgetRequest MakeCheck(absl::BitGen& rng, int thread, int64_t i) {
  stepledger::v1::CheckBudgetRequest request;
  const int f = absl::Uniform(rng, 0, kFeatures);
  auto* tags = request.mutable_tags();
  tags->set_feature(Feature(f));
  tags->set_team(Team(f % kTeams));
  tags->set_tenant(Tenant(absl::Uniform(rng, 0, kTenants)));
  tags->set_workload_class(stepledger::v1::WORKLOAD_CLASS_INTERACTIVE);
  tags->set_environment(stepledger::v1::ENVIRONMENT_PRODUCTION);
  tags->set_parent_run_id(absl::StrCat("run-", thread, "-", i / 8));
  request.set_estimated_cost_nano_usd(absl::Uniform<int64_t>(rng, 1'000'000, 500'000'000));
  request.set_only_deciding_cap(kOnlyDecidingCap);
  return request;
}

// CPU per call by process (see cpu_meter.h): the load client, the server of the kind (the
// collector for check, empty_server for canned and floor) and everything else, in microseconds,
// and the machine's idle share while the kind ran.
void PrintCpu(const std::vector<int>& concurrencies,
              const std::vector<std::array<Samples, 3>>& per_concurrency) {
  const char* const names[] = {"check", "canned", "floor"};
  bool watched = false;
  for (const auto& kinds : per_concurrency) {
    for (const Samples& k : kinds) {
      watched = watched || k.cpu.servers[0] > 0 || k.cpu.servers[1] > 0;
    }
  }
  if (!watched) return;  // No BUDGET_BENCH_SERVER_PIDS.
  std::printf(
      "\nCPU per call in us (client: this load client; server: the process serving the "
      "kind; other: the rest of the machine) and machine idle\n");
  std::printf("%-6s %5s %8s %8s %8s %8s %6s\n", "kind", "conc", "client", "server", "other",
              "total", "idle%");
  for (size_t i = 0; i < concurrencies.size(); ++i) {
    for (int k = 0; k < 3; ++k) {
      const Samples& s = per_concurrency[i][k];
      if (s.all_calls == 0) continue;
      const double per_call = 1e6 / static_cast<double>(s.all_calls);
      const double server = k == 0 ? s.cpu.servers[0] : s.cpu.servers[1];
      const double other = s.cpu.machine_busy - s.cpu.client - s.cpu.servers[0] - s.cpu.servers[1];
      const double all = s.cpu.machine_busy + s.cpu.machine_idle;
      std::printf("%-6s %5d %8.1f %8.1f %8.1f %8.1f %6.1f\n", names[k], concurrencies[i],
                  s.cpu.client * per_call, server * per_call, std::max(0.0, other) * per_call,
                  s.cpu.machine_busy * per_call, all > 0 ? 100 * s.cpu.machine_idle / all : 0);
    }
  }
}

// Each kind gets `seconds` per concurrency, run as slices of about `slice_seconds` in rotating
// order (check, canned, floor; canned, floor, check; ...), so that whatever else the machine
// is doing during the run falls on all three kinds alike instead of on whichever ran then.
int Run(const std::string& check_target, const std::string& floor_target, double seconds,
        double slice_seconds, const std::vector<int>& concurrencies,
        const stepledger::bench::CpuMeter& meter) {
  bool failed = false;
  const int rounds = std::max(1, static_cast<int>(std::lround(seconds / slice_seconds)));
  std::printf("%d slices of %.2fs per kind and concurrency, rotating check, canned, floor\n",
              rounds, seconds / rounds);
  std::printf("%-6s %5s %10s %10s %10s %10s %8s\n", "kind", "conc", "calls/s", "p50_us", "p99_us",
              "p99.9_us", "errors");
  struct Rates {
    double check, canned, floor;
    RatioInterval check_floor, canned_floor;
  };
  std::vector<Rates> rates;
  std::vector<std::array<Samples, 3>> cpu_lines;  // Per concurrency: each kind's CPU use.
  for (int c : concurrencies) {
    const int n_channels = std::min(c, 4);
    std::vector<std::unique_ptr<stepledger::v1::Budget::Stub>> budget;
    std::vector<std::unique_ptr<stepledger::bench::Echo::Stub>> echo;
    for (int i = 0; i < n_channels; ++i) {
      budget.push_back(stepledger::v1::Budget::NewStub(NewChannel(check_target, i)));
      echo.push_back(stepledger::bench::Echo::NewStub(NewChannel(floor_target, i)));
    }
    // Requests are made before the slices (kRequestsPerThread per client thread, cycled), so
    // that making them (random numbers, string formatting, allocation) is not timed or counted
    // against the check and canned kinds: the floor's client makes nothing either. Answers are
    // parsed into a per-call arena on the stack, as a client that checks before every step
    // would: the response's 5 cap statuses then cost the client no malloc/free, which on this
    // shared 2-core machine would otherwise be taken from the server being measured.
    std::vector<std::vector<stepledger::v1::CheckBudgetRequest>> requests(c);
    {
      absl::BitGen rng;
      for (int t = 0; t < c; ++t) {
        requests[t].reserve(kRequestsPerThread);
        for (int i = 0; i < kRequestsPerThread; ++i) requests[t].push_back(MakeCheck(rng, t, i));
      }
    }
    auto checking = [&](int t, auto invoke) -> Call {
      return [&requests, t, invoke, i = size_t{0}](absl::BitGen&) mutable {
        const stepledger::v1::CheckBudgetRequest& request = requests[t][i++ % requests[t].size()];
        alignas(16) char block[8192];
        google::protobuf::ArenaOptions arena_options;
        arena_options.initial_block = block;
        arena_options.initial_block_size = sizeof(block);
        google::protobuf::Arena arena(arena_options);
        auto* response =
            google::protobuf::Arena::CreateMessage<stepledger::v1::CheckBudgetResponse>(&arena);
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        const grpc::Status status = invoke(&context, request, response);
        return status.ok() && AnswerHasItsCaps(*response);
      };
    };
    const MakeCall check = [&](int t) -> Call {
      auto* stub = budget[t % n_channels].get();
      return checking(t, [stub](auto* context, const auto& request, auto* response) {
        return stub->CheckBudget(context, request, response);
      });
    };
    const MakeCall canned = [&](int t) -> Call {
      auto* stub = echo[t % n_channels].get();
      return checking(t, [stub](auto* context, const auto& request, auto* response) {
        return stub->Check(context, request, response);
      });
    };
    const MakeCall floor = [&](int t) -> Call {
      stepledger::bench::Echo::Stub* stub = echo[t % n_channels].get();
      return [stub](absl::BitGen&) {
        grpc::ClientContext context;
        context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
        stepledger::bench::EchoResponse response;
        return stub->Echo(&context, stepledger::bench::EchoRequest(), &response).ok();
      };
    };
    const std::array<const MakeCall*, 3> kinds = {&check, &canned, &floor};
    std::array<Samples, 3> samples;
    for (int r = 0; r < rounds; ++r) {
      for (int k = 0; k < 3; ++k) {
        const int kind = (r + k) % 3;
        RunSlice(c, seconds / rounds, *kinds[kind], meter, samples[kind]);
      }
    }
    std::array<Result, 3> results;
    const char* const names[] = {"check", "canned", "floor"};
    for (int k = 0; k < 3; ++k) {
      results[k] = samples[k].Summarize();
      const Result& r = results[k];
      std::printf("%-6s %5d %10.0f %10.1f %10.1f %10.1f %8lld\n", names[k], c, r.Rate(), r.p50_us,
                  r.p99_us, r.p999_us, static_cast<long long>(r.errors));
      if (r.errors > 0 || r.calls == 0) failed = true;
    }
    std::fflush(stdout);
    rates.push_back({results[0].Rate(), results[1].Rate(), results[2].Rate(),
                     BootstrapRatio(samples[0].slice_rates, samples[2].slice_rates),
                     BootstrapRatio(samples[1].slice_rates, samples[2].slice_rates)});
    for (auto& k : samples) k.latencies_ns.clear();
    cpu_lines.push_back(std::move(samples));
  }
  std::printf(
      "\nratio checks/s / floor/s (target >= 0.90; with TLS and keys >= 0.80); canned/floor: "
      "what the messages alone cost\n");
  for (size_t i = 0; i < concurrencies.size(); ++i) {
    const Rates& r = rates[i];
    std::printf(
        "  concurrency %3d: check/floor %.2f (95%% CI %.2f-%.2f)   canned/floor %.2f (%.2f-%.2f)"
        "   check/canned %.2f\n",
        concurrencies[i], r.floor > 0 ? r.check / r.floor : 0, r.check_floor.low,
        r.check_floor.high, r.floor > 0 ? r.canned / r.floor : 0, r.canned_floor.low,
        r.canned_floor.high, r.canned > 0 ? r.check / r.canned : 0);
  }
  std::printf(
      "  (CI: percentile bootstrap over the rounds of slices; it covers slice-to-slice noise "
      "within this run, not differences between runs)\n");
  PrintCpu(concurrencies, cpu_lines);
  return failed ? 1 : 0;
}

// The `paced` mode: open-loop load on gRPC's callback client API. One sender thread schedules
// call i of a slice at start + i / rate and sends it then (sleeping in between with a 1 ns timer
// slack, so the schedule is kept to the kernel's wake-up latency); each answer's callback
// records the time from the schedule, so a late sender shows as latency, never as less load.
struct PacedSamples {
  absl::Mutex mu;
  std::vector<int64_t> latencies_ns ABSL_GUARDED_BY(mu);  // From the scheduled send time.
  // From the actual send: without the sender's own lateness (on a loaded machine the sender
  // thread itself waits for a core), which the figure above includes.
  std::vector<int64_t> from_send_ns ABSL_GUARDED_BY(mu);
  int64_t errors ABSL_GUARDED_BY(mu) = 0;
  double seconds = 0;  // Measured time (warm-up excluded); sender thread only.
};

// Sends one call at `scheduled` (counted unless `warm_up`); `done` runs on a gRPC thread.
using SendCall = std::function<void(int64_t i, std::function<void(bool ok)> done)>;

void RunPacedSlice(double rate, double seconds, const SendCall& send, PacedSamples& into) {
  std::atomic<int64_t> in_flight{0};
  const absl::Time start = absl::Now();
  const absl::Time measure_from = start + absl::Seconds(seconds * 0.1);
  const int64_t calls = static_cast<int64_t>(rate * seconds);
  for (int64_t i = 0; i < calls; ++i) {
    const absl::Time scheduled = start + absl::Seconds(static_cast<double>(i) / rate);
    const absl::Time now = absl::Now();
    if (scheduled > now) absl::SleepFor(scheduled - now);
    const bool counted = scheduled >= measure_from;
    in_flight.fetch_add(1, std::memory_order_relaxed);
    const absl::Time sent = absl::Now();
    send(i, [&into, &in_flight, scheduled, sent, counted](bool ok) {
      const absl::Time answered = absl::Now();
      if (counted) {
        absl::MutexLock lock(&into.mu);
        if (ok) {
          into.latencies_ns.push_back(absl::ToInt64Nanoseconds(answered - scheduled));
          into.from_send_ns.push_back(absl::ToInt64Nanoseconds(answered - sent));
        } else {
          ++into.errors;
        }
      }
      in_flight.fetch_sub(1, std::memory_order_release);
    });
  }
  // Every call has a 10 s deadline, so this ends.
  while (in_flight.load(std::memory_order_acquire) > 0) absl::SleepFor(absl::Milliseconds(1));
  into.seconds += seconds * 0.9;
}

int RunPaced(const std::string& check_target, const std::string& floor_target, double rate,
             double seconds) {
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // The sender's sleeps end on time.
  constexpr int kChannels = 4;
  std::vector<std::unique_ptr<stepledger::v1::Budget::Stub>> budget;
  std::vector<std::unique_ptr<stepledger::bench::Echo::Stub>> echo;
  for (int i = 0; i < kChannels; ++i) {
    budget.push_back(stepledger::v1::Budget::NewStub(NewChannel(check_target, i)));
    echo.push_back(stepledger::bench::Echo::NewStub(NewChannel(floor_target, i)));
  }
  std::vector<stepledger::v1::CheckBudgetRequest> requests;
  {
    absl::BitGen rng;
    for (int i = 0; i < kRequestsPerThread; ++i) requests.push_back(MakeCheck(rng, 0, i));
  }
  const SendCall check = [&](int64_t i, std::function<void(bool)> done) {
    struct Call {
      grpc::ClientContext context;
      stepledger::v1::CheckBudgetResponse response;
    };
    auto* call = new Call;
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    budget[i % kChannels]->async()->CheckBudget(
        &call->context, &requests[i % requests.size()], &call->response,
        [call, done = std::move(done)](grpc::Status status) {
          const bool ok = status.ok() && AnswerHasItsCaps(call->response);
          delete call;
          done(ok);
        });
  };
  const stepledger::bench::EchoRequest echo_request;
  const SendCall floor = [&](int64_t i, std::function<void(bool)> done) {
    struct Call {
      grpc::ClientContext context;
      stepledger::bench::EchoResponse response;
    };
    auto* call = new Call;
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    echo[i % kChannels]->async()->Echo(&call->context, &echo_request, &call->response,
                                       [call, done = std::move(done)](grpc::Status status) {
                                         delete call;
                                         done(status.ok());
                                       });
  };
  std::array<PacedSamples, 2> samples;
  const std::array<const SendCall*, 2> kinds = {&check, &floor};
  const int rounds = std::max(1, static_cast<int>(std::lround(seconds)));
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      const int kind = (r + k) % 2;
      RunPacedSlice(rate, seconds / rounds, *kinds[kind], samples[kind]);
    }
  }
  std::printf(
      "open loop, %.0f calls/s offered per kind, %d slices of %.2fs per kind, alternating\n", rate,
      rounds, seconds / rounds);
  std::printf(
      "(p50/p99/p99.9 from each call's scheduled send time; sent_p50/sent_p99 from its actual "
      "send, without the sender's own lateness)\n");
  std::printf("%-6s %10s %10s %10s %10s %10s %10s %10s %8s\n", "kind", "offered/s", "answered/s",
              "p50_us", "p99_us", "p99.9_us", "sent_p50", "sent_p99", "errors");
  const char* const names[] = {"check", "floor"};
  bool failed = false;
  for (int k = 0; k < 2; ++k) {
    PacedSamples& s = samples[k];
    absl::MutexLock lock(&s.mu);
    const double answered = s.seconds > 0 ? s.latencies_ns.size() / s.seconds : 0;
    std::printf("%-6s %10.0f %10.0f %10.1f %10.1f %10.1f %10.1f %10.1f %8lld\n", names[k], rate,
                answered, Percentile(s.latencies_ns, 0.50), Percentile(s.latencies_ns, 0.99),
                Percentile(s.latencies_ns, 0.999), Percentile(s.from_send_ns, 0.50),
                Percentile(s.from_send_ns, 0.99), static_cast<long long>(s.errors));
    failed = failed || s.errors > 0 || s.latencies_ns.empty();
  }
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // As the collector and empty_server: no deadlock detection on every gRPC mutex. It is the
  // same for all three kinds, so leaving it on would only dilute the differences measured.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "caps") return PrintCaps();
  if (mode == "wait-caps" && argc >= 4) {
    return WaitCaps(argv[2], std::atoi(argv[3]), argc > 4 ? std::atoi(argv[4]) : 60);
  }
  if (mode == "run" && (argc == 6 || argc == 7)) {
    double seconds = 0;
    double slice_seconds = 1;
    if (argc == 7 && (!absl::SimpleAtod(argv[6], &slice_seconds) || slice_seconds <= 0)) {
      std::fprintf(stderr, "bad SLICE_SECONDS '%s'\n", argv[6]);
      return 64;
    }
    std::vector<int> concurrencies;
    for (absl::string_view part : absl::StrSplit(argv[5], ',')) {
      int c = 0;
      if (!absl::SimpleAtoi(part, &c) || c < 1 || c > 1024) {
        std::fprintf(stderr, "bad concurrency '%s'\n", std::string(part).c_str());
        return 64;
      }
      concurrencies.push_back(c);
    }
    if (!absl::SimpleAtod(argv[4], &seconds) || seconds <= 0) {
      std::fprintf(stderr, "bad SECONDS '%s'\n", argv[4]);
      return 64;
    }
    std::array<pid_t, 2> server_pids{0, 0};
    if (const char* pids = std::getenv("BUDGET_BENCH_SERVER_PIDS"); pids != nullptr) {
      const std::vector<std::string> parts = absl::StrSplit(pids, ',');
      for (size_t i = 0; i < parts.size() && i < server_pids.size(); ++i) {
        int pid = 0;
        if (absl::SimpleAtoi(parts[i], &pid)) server_pids[i] = pid;
      }
    }
    return Run(argv[2], argv[3], seconds, slice_seconds, concurrencies,
               stepledger::bench::CpuMeter(server_pids));
  }
  if (mode == "paced" && argc == 6) {
    double rate = 0, seconds = 0;
    if (!absl::SimpleAtod(argv[4], &rate) || rate <= 0 || rate > 1e6) {
      std::fprintf(stderr, "bad RATE '%s'\n", argv[4]);
      return 64;
    }
    if (!absl::SimpleAtod(argv[5], &seconds) || seconds <= 0) {
      std::fprintf(stderr, "bad SECONDS '%s'\n", argv[5]);
      return 64;
    }
    return RunPaced(argv[2], argv[3], rate, seconds);
  }
  std::fprintf(stderr,
               "usage: budget_check_load caps\n"
               "       budget_check_load wait-caps TARGET N [TIMEOUT_SECONDS]\n"
               "       budget_check_load run CHECK_TARGET FLOOR_TARGET SECONDS C1,C2,... "
               "[SLICE_SECONDS=1]\n"
               "       budget_check_load paced CHECK_TARGET FLOOR_TARGET RATE SECONDS\n");
  return 64;
}
