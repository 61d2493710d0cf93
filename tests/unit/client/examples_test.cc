// examples/steps.jsonl is what a new user sends first; it must parse and describe one coherent,
// fully tagged production run.
#include <fstream>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "client/lib/jsonl.h"
#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

std::vector<v1::StepEvent> LoadExample() {
  const std::string path = std::string(STEPLEDGER_SOURCE_DIR) + "/examples/steps.jsonl";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  absl::StatusOr<std::vector<v1::StepEvent>> events = ParseJsonLines(in);
  EXPECT_TRUE(events.ok()) << path << ": " << events.status();
  return events.ok() ? *events : std::vector<v1::StepEvent>{};
}

TEST(ExamplesTest, EveryLineOfStepsJsonlParses) {
  std::vector<v1::StepEvent> events = LoadExample();
  EXPECT_GE(events.size(), 8u);
  EXPECT_LE(events.size(), 10u);
}

TEST(ExamplesTest, StepsJsonlIsInCanonicalJsonMapping) {
  // Byte for byte what protobuf prints, so the file also documents the wire's JSON form.
  const std::string path = std::string(STEPLEDGER_SOURCE_DIR) + "/examples/steps.jsonl";
  std::ifstream in(path);
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    absl::StatusOr<v1::StepEvent> event = ParseStepEventJson(line);
    ASSERT_TRUE(event.ok()) << "line " << line_number << ": " << event.status();
    absl::StatusOr<std::string> printed = StepEventToJson(*event);
    ASSERT_TRUE(printed.ok());
    EXPECT_EQ(*printed, line) << "line " << line_number;
  }
}

TEST(ExamplesTest, StepsJsonlIsOneFullyTaggedProductionRunWithOneRoot) {
  std::vector<v1::StepEvent> events = LoadExample();
  ASSERT_FALSE(events.empty());
  absl::flat_hash_set<std::string> event_ids, step_ids;
  for (const v1::StepEvent& e : events) {
    EXPECT_TRUE(event_ids.insert(e.event_id()).second) << "duplicate event_id " << e.event_id();
    step_ids.insert(e.step_id());
  }
  int roots = 0;
  bool retried = false, tool_of_other_team = false;
  for (const v1::StepEvent& e : events) {
    SCOPED_TRACE(e.event_id());
    const v1::Tags& tags = e.tags();
    EXPECT_EQ(tags.environment(), v1::ENVIRONMENT_PRODUCTION);
    EXPECT_NE(tags.workload_class(), v1::WORKLOAD_CLASS_UNSPECIFIED);
    EXPECT_FALSE(tags.feature().empty());
    EXPECT_FALSE(tags.team().empty());
    EXPECT_FALSE(tags.tenant().empty());
    EXPECT_EQ(tags.parent_run_id(), events.front().tags().parent_run_id());
    if (e.parent_step_id().empty()) {
      ++roots;
    } else {
      EXPECT_TRUE(step_ids.contains(e.parent_step_id())) << "orphan " << e.parent_step_id();
    }
    retried |= e.attempt() > 1;
    tool_of_other_team |= e.kind() == v1::STEP_KIND_TOOL_CALL && !e.tool_owner_team().empty() &&
                          e.tool_owner_team() != tags.team();
  }
  EXPECT_EQ(roots, 1);
  EXPECT_TRUE(retried);
  EXPECT_TRUE(tool_of_other_team);
}

}  // namespace
}  // namespace stepledger::client
