// Shared by the GetRun unit tests: building stored steps and an in-memory RunRepository.
#ifndef STEPLEDGER_TESTS_UNIT_RUNS_TRANSPORT_RUN_TEST_UTIL_H_
#define STEPLEDGER_TESTS_UNIT_RUNS_TRANSPORT_RUN_TEST_UTIL_H_

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/runs/run_repository.h"
#include "server/domain/runs/step_record.h"

namespace stepledger::testing {

inline constexpr char kTestRun[] = "run-1";
// One micro-dollar (1,000 nano-USD), so costs print as readable dollars.
inline constexpr int64_t kMicroUsd = 1000;

inline domain::Tags RootTags() {
  domain::Tags t;
  t.feature = "inbox-triage";
  t.team = "mail";
  t.tenant = "acme";
  t.workload_class = domain::WorkloadClass::kInteractive;
  t.environment = domain::Environment::kProduction;
  t.parent_run_id = kTestRun;
  return t;
}

// A stored, fully tagged model-call step of kTestRun charged to RootTags(), started
// `started_s` seconds after a fixed instant.
inline domain::runs::StepRecord Stored(std::string step_id, std::string parent,
                                       std::optional<int64_t> cost, int started_s) {
  domain::runs::StepRecord r;
  r.event_id = "e-" + step_id;
  r.step_id = std::move(step_id);
  r.parent_step_id = std::move(parent);
  r.kind = domain::StepKind::kModelCall;
  r.name = "reason";
  r.model = "gpt-4.1";
  r.provider = "openai";
  r.usage.input_uncached_tokens = 100;
  r.usage.output_tokens = 20;
  r.cost_nano_usd = cost;
  r.status = "ok";
  r.own_tags = RootTags();
  r.charged_tags = RootTags();
  r.started_at = absl::FromUnixSeconds(1'767'225'600 + started_s);
  return r;
}

class FakeRunRepository final : public domain::runs::RunRepository {
 public:
  void Put(const std::string& run_id, std::vector<domain::runs::StepRecord> steps) {
    absl::MutexLock lock(&mu_);
    runs_[run_id] = std::move(steps);
  }
  // Every later call fails with `status` (OK: behave normally again).
  void FailWith(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }
  int calls() const { return calls_.load(); }

  absl::StatusOr<std::vector<domain::runs::StepRecord>> LoadRunSteps(
      std::string_view run_id) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    auto it = runs_.find(std::string(run_id));
    if (it == runs_.end()) return absl::NotFoundError("run not found");
    return it->second;
  }

 private:
  std::atomic<int> calls_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, std::vector<domain::runs::StepRecord>> runs_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

// A run with a bit of everything: a root with a retried operation, an unpriced tool step
// that inherited its tags (with a drifting child), an orphan subtree whose top is pending,
// and a self-parented step.
//   r ($0.100000)
//     a   attempt 1/2 ($0.010000, error)
//     a2  attempt 2/2 ($0.020000)
//     t   tool, unpriced, inherited
//       c ($0.005000, drift)
//   orphan o (parent "gone", pending, $0.007000)
//     o1 ($0.003000)
//   invalid x (self parent, $0.001000)
// Total $0.146000; retries $0.020000; orphans $0.010000; invalid $0.001000.
inline std::vector<domain::runs::StepRecord> MixedRun() {
  using domain::runs::StepRecord;
  std::vector<StepRecord> s;
  s.push_back(Stored("r", "", 100'000 * kMicroUsd, 0));
  StepRecord a = Stored("a", "r", 10'000 * kMicroUsd, 1);
  a.operation_id = "op-1";
  a.status = "error";
  StepRecord a2 = Stored("a2", "r", 20'000 * kMicroUsd, 2);
  a2.operation_id = "op-1";
  a2.attempt = 2;
  StepRecord t = Stored("t", "r", std::nullopt, 3);
  t.kind = domain::StepKind::kToolCall;
  t.name = "web_search";
  t.model.clear();
  t.provider.clear();
  t.usage = {};
  t.tool_name = "web_search";
  t.tool_owner_team = "search-platform";
  t.own_tags = domain::Tags{};
  t.own_tags.parent_run_id = kTestRun;
  t.own_tags.environment = domain::Environment::kProduction;
  t.attribution_status = domain::AttributionStatus::kInherited;
  StepRecord c = Stored("c", "t", 5'000 * kMicroUsd, 4);
  c.tag_drift = true;
  c.own_tags.team = "search-platform-ml";
  StepRecord o = Stored("o", "gone", 7'000 * kMicroUsd, 5);
  o.attribution_status = domain::AttributionStatus::kPending;
  StepRecord o1 = Stored("o1", "o", 3'000 * kMicroUsd, 6);
  StepRecord x = Stored("x", "x", 1'000 * kMicroUsd, 7);
  for (StepRecord* r : {&a, &a2, &t, &c, &o, &o1, &x}) s.push_back(std::move(*r));
  return s;
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_UNIT_RUNS_TRANSPORT_RUN_TEST_UTIL_H_
