// The tags and step events the e2e tests send, built in one place so that a change to what a
// valid production step needs is made once. Every step here is complete (all six tags), a
// gpt-4o model call that started a second ago and reports its own cost.
#ifndef STEPLEDGER_TESTS_FAKES_E2E_STEPS_H_
#define STEPLEDGER_TESTS_FAKES_E2E_STEPS_H_

#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::testing {

// Team search's interactive `feature` for tenant acme, in production.
inline v1::Tags SearchTags(const std::string& run, const std::string& feature = "triage") {
  v1::Tags t;
  t.set_feature(feature);
  t.set_team("search");
  t.set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
  t.set_tenant("acme");
  t.set_environment(v1::ENVIRONMENT_PRODUCTION);
  t.set_parent_run_id(run);
  return t;
}

// Team deep-research's background research agent for tenant acme, in production (the budget
// tests' caps are on this team).
inline v1::Tags ResearchAgentTags(const std::string& run) {
  v1::Tags t;
  t.set_feature("research-agent");
  t.set_team("deep-research");
  t.set_workload_class(v1::WORKLOAD_CLASS_BACKGROUND);
  t.set_tenant("acme");
  t.set_environment(v1::ENVIRONMENT_PRODUCTION);
  t.set_parent_run_id(run);
  return t;
}

inline v1::StepEvent ModelCall(v1::Tags tags, const std::string& event_id,
                               const std::string& step_id, int64_t cost_nano_usd) {
  v1::StepEvent e;
  e.set_event_id(event_id);
  e.set_step_id(step_id);
  *e.mutable_tags() = std::move(tags);
  e.set_kind(v1::STEP_KIND_MODEL_CALL);
  e.set_model("gpt-4o");
  e.set_cost_nano_usd(cost_nano_usd);
  e.mutable_started_at()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 1);
  return e;
}

// Step `step` of the research agent's `run`, event id "<run>/<step>".
inline v1::StepEvent ResearchAgentStep(const std::string& run, const std::string& step,
                                       int64_t cost_nano_usd) {
  return ModelCall(ResearchAgentTags(run), run + "/" + step, step, cost_nano_usd);
}

// A one-step run "run-<id>" of team search ($0.000001), event and step id `id`.
inline v1::StepEvent SearchStep(const std::string& id) {
  return ModelCall(SearchTags("run-" + id), id, id, 1000);
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_E2E_STEPS_H_
