// Builds small, valid-looking StepEvents for the client tests.
#ifndef STEPLEDGER_TESTS_UNIT_CLIENT_TEST_EVENTS_H_
#define STEPLEDGER_TESTS_UNIT_CLIENT_TEST_EVENTS_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::testing {

inline stepledger::v1::StepEvent MakeEvent(const std::string& event_id) {
  stepledger::v1::StepEvent event;
  event.set_event_id(event_id);
  event.set_step_id(event_id);
  event.set_kind(stepledger::v1::STEP_KIND_MODEL_CALL);
  event.mutable_tags()->set_feature("inbox-triage");
  event.mutable_tags()->set_team("mail-ai");
  event.mutable_tags()->set_tenant("acme");
  event.mutable_tags()->set_workload_class(stepledger::v1::WORKLOAD_CLASS_INTERACTIVE);
  event.mutable_tags()->set_environment(stepledger::v1::ENVIRONMENT_PRODUCTION);
  event.mutable_tags()->set_parent_run_id("run-1");
  return event;
}

// Events "<prefix>0", "<prefix>1", ...
inline std::vector<stepledger::v1::StepEvent> MakeEvents(int count,
                                                         const std::string& prefix = "evt-") {
  std::vector<stepledger::v1::StepEvent> events;
  for (int i = 0; i < count; ++i) events.push_back(MakeEvent(absl::StrCat(prefix, i)));
  return events;
}

inline std::vector<std::string> EventIds(const std::vector<stepledger::v1::StepEvent>& events) {
  std::vector<std::string> ids;
  for (const auto& event : events) ids.push_back(event.event_id());
  return ids;
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_UNIT_CLIENT_TEST_EVENTS_H_
