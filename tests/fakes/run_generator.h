// RunGenerator: deterministic, realistic agent runs for property, e2e and benchmark tests.
//
// A run is a root planner call (fully tagged) with a fan-out tree below it: model calls,
// retrievals, embeddings, reranks, and tool calls emitted by another team's service. Tool
// steps, and every step below a tool step, carry only parent_run_id (+ environment, which is
// never inherited) and parent_step_id, no feature/team/tenant/workload_class: they must inherit
// from the root. Other steps carry the root's tags. Some operations are retried: the attempts
// share operation_id (attempt 1..k), are siblings, each has its own step_id/event_id and cost;
// only the last one succeeds and has children. Every step is priced (cost_nano_usd set).
//
// Determinism: the same seed and options give the same runs on every platform (mt19937_64 is
// fully specified; no std:: distributions, whose algorithms are not).
//
// Thread safety: one generator per thread.
// Invariants: `steps` lists parents before children; depth <= max_depth (root = depth 0);
//   each step has at most max_fanout children (attempts of one operation count once);
//   total_cost_nano_usd is the sum of all steps' costs.
#ifndef STEPLEDGER_TESTS_FAKES_RUN_GENERATOR_H_
#define STEPLEDGER_TESTS_FAKES_RUN_GENERATOR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "server/domain/step.h"

namespace stepledger::testing {

struct RunGeneratorOptions {
  int max_depth = 5;         // Edges from the root to the deepest step.
  int max_fanout = 8;        // Children per step (operations, not attempts).
  double retry_rate = 0.05;  // Share of non-root operations retried (2 or 3 attempts).
  double tool_rate = 0.3;    // Share of non-root steps that are another team's tool calls.
  size_t max_steps = 400;    // Per run, attempts included (the tree stops growing there).
  absl::Time start = absl::FromUnixSeconds(1'767'225'600);  // 2026-01-01T00:00:00Z
  domain::Environment environment = domain::Environment::kProduction;
};

struct GeneratedRun {
  std::string run_id;
  domain::Tags root_tags;
  std::vector<domain::Step> steps;  // Parents before children.
  domain::NanoUsd total_cost_nano_usd = 0;
  domain::NanoUsd retry_cost_nano_usd = 0;  // Attempts > 1.
  int64_t tool_steps = 0;
  int max_depth = 0;
};

class RunGenerator {
 public:
  explicit RunGenerator(uint64_t seed, RunGeneratorOptions options = {})
      : rng_(seed), options_(options) {}

  GeneratedRun Next() {
    GeneratedRun run;
    run.run_id = "run-" + Hex(16);
    const Profile& p = kProfiles[Uniform(kProfiles.size())];
    run.root_tags.feature = p.feature;
    run.root_tags.team = p.team;
    run.root_tags.tenant = "tenant-" + std::to_string(Uniform(200));
    run.root_tags.workload_class = kClasses[Uniform(kClasses.size())];
    run.root_tags.environment = options_.environment;
    run.root_tags.parent_run_id = run.run_id;
    const absl::Time run_start =
        options_.start + absl::Seconds(7 * run_index_++) + absl::Milliseconds(Uniform(1000));

    struct Pending {
      size_t step;  // Index into run.steps.
      int depth;
      bool under_tool;  // Emitted by the tool's service: only the run id is tagged.
    };
    run.steps.push_back(MakeStep(run, nullptr, domain::StepKind::kModelCall, false, run_start));
    run.steps.back().name = "plan";
    std::vector<Pending> stack{{0, 0, false}};
    while (!stack.empty()) {
      const Pending parent = stack.back();
      stack.pop_back();
      if (parent.depth >= options_.max_depth) continue;
      for (int c = 0, n = FanOut(parent.depth); c < n; ++c) {
        if (run.steps.size() >= options_.max_steps) break;
        const bool tool = Chance(options_.tool_rate);
        const domain::StepKind kind = tool ? domain::StepKind::kToolCall : OtherKind();
        const bool bare = tool || parent.under_tool;
        const int attempts = Chance(options_.retry_rate) ? 2 + static_cast<int>(Uniform(2)) : 1;
        const std::string operation_id = "op-" + Hex(12);
        absl::Time at = *run.steps[parent.step].started_at + absl::Milliseconds(1 + Uniform(5000));
        for (int a = 1; a <= attempts && run.steps.size() < options_.max_steps; ++a) {
          domain::Step step = MakeStep(run, &run.steps[parent.step], kind, bare, at);
          step.operation_id = operation_id;
          step.attempt = a;
          if (a < attempts) step.status = "error";
          at = *step.ended_at + absl::Milliseconds(Uniform(500));
          run.steps.push_back(std::move(step));
        }
        const int depth = parent.depth + 1;
        if (depth > run.max_depth) run.max_depth = depth;
        // Only the last attempt goes on to have children.
        stack.push_back({run.steps.size() - 1, depth, bare});
      }
    }
    for (const domain::Step& s : run.steps) {
      run.total_cost_nano_usd += *s.cost_nano_usd;
      if (s.attempt > 1) run.retry_cost_nano_usd += *s.cost_nano_usd;
      if (s.kind == domain::StepKind::kToolCall) ++run.tool_steps;
    }
    return run;
  }

  // [0, n); n > 0. Exposed so tests can shuffle with the same fully specified generator.
  uint64_t Uniform(uint64_t n) {
    // Rejection sampling: no modulo bias, and the same on every platform.
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = rng_();
    } while (x >= limit);
    return x % n;
  }

  // Fisher-Yates with Uniform(): the same permutation for the same seed everywhere.
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[Uniform(i)]);
  }

 private:
  struct Profile {
    const char* feature;
    const char* team;
  };
  struct Tool {
    const char* name;
    const char* owner_team;
  };
  struct Model {
    const char* model;
    const char* provider;
    domain::NanoUsd input, cache_read, cache_write, output;  // nano-USD per token
  };
  static constexpr std::array<Profile, 5> kProfiles{{{"inbox-triage", "mail"},
                                                     {"support-copilot", "support"},
                                                     {"code-review", "devtools"},
                                                     {"sales-research", "growth"},
                                                     {"doc-qa", "knowledge"}}};
  static constexpr std::array<Tool, 4> kTools{{{"web_search", "search-platform"},
                                               {"sql_query", "data-infra"},
                                               {"crm_lookup", "crm-integrations"},
                                               {"send_email", "messaging"}}};
  static constexpr std::array<Model, 3> kModels{
      {{"claude-sonnet-4", "anthropic", 3000, 300, 3750, 15000},
       {"gpt-4.1", "openai", 2000, 500, 2000, 8000},
       {"gemini-2.5-pro", "google", 1250, 310, 1250, 10000}}};
  static constexpr std::array<domain::WorkloadClass, 3> kClasses{
      domain::WorkloadClass::kInteractive, domain::WorkloadClass::kBatch,
      domain::WorkloadClass::kBackground};

  bool Chance(double p) { return static_cast<double>(Uniform(1'000'000)) < p * 1'000'000; }

  std::string Hex(int digits) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < digits; ++i) out += kDigits[Uniform(16)];
    return out;
  }

  // Root: 1..max_fanout. Below: more often a leaf the deeper it is, and small fan-outs more
  // likely than large ones (min of two draws), as in real agent traces.
  int FanOut(int depth) {
    const int f = options_.max_fanout;
    if (f <= 0) return 0;
    if (depth == 0) return 1 + static_cast<int>(Uniform(f));
    if (!Chance(0.5 - 0.1 * depth)) return 0;
    const int a = 1 + static_cast<int>(Uniform(f));
    const int b = 1 + static_cast<int>(Uniform(f));
    return a < b ? a : b;
  }

  domain::StepKind OtherKind() {
    const uint64_t r = Uniform(10);
    if (r < 6) return domain::StepKind::kModelCall;
    if (r < 8) return domain::StepKind::kRetrieval;
    if (r < 9) return domain::StepKind::kEmbedding;
    return domain::StepKind::kRerank;
  }

  std::optional<int64_t> MaybeTokens(int64_t max) {
    if (Chance(0.3)) return std::nullopt;  // Unknown, not zero.
    return static_cast<int64_t>(Uniform(max));
  }

  domain::Step MakeStep(const GeneratedRun& run, const domain::Step* parent, domain::StepKind kind,
                        bool bare, absl::Time at) {
    domain::Step s;
    s.event_id = Hex(32);
    s.step_id = "s-" + Hex(12);
    if (parent != nullptr) s.parent_step_id = parent->step_id;
    s.kind = kind;
    s.status = "ok";
    s.started_at = at;
    if (bare) {
      s.tags.parent_run_id = run.run_id;
      s.tags.environment = run.root_tags.environment;
    } else {
      s.tags = run.root_tags;
    }
    switch (kind) {
      case domain::StepKind::kModelCall: {
        const Model& m = kModels[Uniform(kModels.size())];
        s.name = parent == nullptr ? "plan" : (Chance(0.5) ? "reason" : "synthesize");
        s.model = m.model;
        s.provider = m.provider;
        s.usage.input_uncached_tokens = 200 + static_cast<int64_t>(Uniform(8000));
        s.usage.cache_read_tokens = MaybeTokens(4000);
        s.usage.cache_write_tokens = MaybeTokens(1000);
        s.usage.output_tokens = 20 + static_cast<int64_t>(Uniform(2000));
        s.usage.reasoning_tokens = MaybeTokens(1500);
        s.cost_nano_usd =
            *s.usage.input_uncached_tokens * m.input +
            s.usage.cache_read_tokens.value_or(0) * m.cache_read +
            s.usage.cache_write_tokens.value_or(0) * m.cache_write +
            (*s.usage.output_tokens + s.usage.reasoning_tokens.value_or(0)) * m.output;
        break;
      }
      case domain::StepKind::kToolCall: {
        const Tool& t = kTools[Uniform(kTools.size())];
        s.name = t.name;
        s.tool_name = t.name;
        s.tool_owner_team = t.owner_team;
        s.cost_nano_usd = static_cast<domain::NanoUsd>(Uniform(500'000));
        break;
      }
      case domain::StepKind::kEmbedding:
        s.name = "embed";
        s.model = "text-embedding-3-small";
        s.provider = "openai";
        s.usage.input_uncached_tokens = 10 + static_cast<int64_t>(Uniform(4000));
        s.cost_nano_usd = *s.usage.input_uncached_tokens * 20;
        break;
      case domain::StepKind::kRetrieval:
        s.name = "retrieve";
        s.cost_nano_usd = 50'000;
        break;
      default:
        s.name = "rerank";
        s.provider = "cohere";
        s.cost_nano_usd = 100'000 + static_cast<domain::NanoUsd>(Uniform(100'000));
        break;
    }
    s.ended_at = at + absl::Milliseconds(20 + Uniform(8000));
    return s;
  }

  std::mt19937_64 rng_;
  RunGeneratorOptions options_;
  int64_t run_index_ = 0;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_RUN_GENERATOR_H_
