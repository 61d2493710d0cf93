#include "server/domain/runs/attribution.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/runs/test_util.h"

namespace stepledger::domain::runs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Tags RootTags() {
  return {"inbox-triage",           "mail", WorkloadClass::kInteractive, "acme",
          Environment::kProduction, "run-1"};
}

Step Root() {
  Step s;
  s.event_id = "e-root";
  s.step_id = "root";
  s.tags = RootTags();
  return s;
}

// A step that carries only its run and parent, as another team's service emits it.
Step Bare(std::string step_id = "child") {
  Step s;
  s.event_id = "e-" + step_id;
  s.step_id = step_id;
  s.parent_step_id = "root";
  s.tags.parent_run_id = "run-1";
  s.tags.environment = Environment::kProduction;
  return s;
}

TEST(ResolveAttributionTest, RootWithAllTagsIsComplete) {
  absl::StatusOr<Attribution> a = ResolveAttribution(Root(), std::nullopt);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->status, AttributionStatus::kComplete);
  EXPECT_EQ(a->charged.team, "mail");
  EXPECT_FALSE(a->tag_drift());
}

TEST(ResolveAttributionTest, RootMissingATagIsRejectedNamingTheField) {
  Step root = Root();
  root.tags.team.clear();
  absl::StatusOr<Attribution> a = ResolveAttribution(root, std::nullopt);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("team"));
}

TEST(ResolveAttributionTest, StepWithoutRunIdCannotInherit) {
  Step s = Bare();
  s.tags.parent_run_id.clear();
  absl::StatusOr<Attribution> a = ResolveAttribution(s, std::nullopt);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("feature,team,tenant,workload_class"));
}

TEST(ResolveAttributionTest, MissingTagsInheritedFromKnownRoot) {
  absl::StatusOr<Attribution> a = ResolveAttribution(Bare(), RootTags());
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->status, AttributionStatus::kInherited);
  EXPECT_EQ(a->charged.feature, "inbox-triage");
  EXPECT_EQ(a->charged.team, "mail");
  EXPECT_EQ(a->charged.tenant, "acme");
  EXPECT_EQ(a->charged.workload_class, WorkloadClass::kInteractive);
  EXPECT_THAT(a->inherited, ElementsAre(TagField::kFeature, TagField::kTeam, TagField::kTenant,
                                        TagField::kWorkloadClass));
  EXPECT_FALSE(a->tag_drift());
}

TEST(ResolveAttributionTest, PartlyTaggedStepInheritsOnlyWhatIsMissing) {
  Step s = Bare();
  s.tags.feature = "inbox-triage";
  s.tags.workload_class = WorkloadClass::kBatch;
  absl::StatusOr<Attribution> a = ResolveAttribution(s, RootTags());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, AttributionStatus::kInherited);
  EXPECT_THAT(a->inherited, ElementsAre(TagField::kTeam, TagField::kTenant));
  // Charged in the run's class of work, as the SQL write path does; a class is never drift.
  EXPECT_EQ(a->charged.workload_class, WorkloadClass::kInteractive);
  EXPECT_FALSE(a->tag_drift());
}

TEST(ResolveAttributionTest, PartlyTaggedStepIsNotCheckedForDrift) {
  Step s = Bare();
  s.tags.feature = "summarizer";  // differs from the root's, but the step defers to the root
  absl::StatusOr<Attribution> a = ResolveAttribution(s, RootTags());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, AttributionStatus::kInherited);
  EXPECT_EQ(a->charged.feature, "inbox-triage");
  EXPECT_FALSE(a->tag_drift());
}

TEST(ResolveAttributionTest, MissingTagsWithUnknownRootArePending) {
  absl::StatusOr<Attribution> a = ResolveAttribution(Bare(), std::nullopt);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, AttributionStatus::kPending);
  EXPECT_FALSE(a->root_known);
  EXPECT_EQ(a->missing.size(), 4u);
  EXPECT_THAT(a->inherited, IsEmpty());
}

TEST(ResolveAttributionTest, FullyTaggedChildWithUnknownRootIsCompleteDriftUnchecked) {
  Step s = Bare();
  s.tags = RootTags();
  s.tags.team = "other";
  absl::StatusOr<Attribution> a = ResolveAttribution(s, std::nullopt);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, AttributionStatus::kComplete);
  EXPECT_FALSE(a->root_known);
  EXPECT_EQ(a->charged.team, "other");
}

TEST(ResolveAttributionTest, DriftIsFlaggedAndChargedToTheRoot) {
  Step s = Bare();
  s.tags = RootTags();
  s.tags.feature = "summarizer";
  s.tags.tenant = "globex";
  absl::StatusOr<Attribution> a = ResolveAttribution(s, RootTags());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, AttributionStatus::kComplete);
  EXPECT_THAT(a->drift, ElementsAre(TagField::kFeature, TagField::kTenant));
  EXPECT_EQ(a->charged.feature, "inbox-triage");
  EXPECT_EQ(a->charged.tenant, "acme");
}

TEST(ResolveAttributionTest, ToolStepKeepsOwnerButCallingFeaturePays) {
  Step s = Bare();
  s.kind = StepKind::kToolCall;
  s.tool_name = "web_search";
  s.tool_owner_team = "search-platform";
  absl::StatusOr<Attribution> a = ResolveAttribution(s, RootTags());
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->charged.team, "mail");
  StepRecord r = MakeStepRecord(s, *a);
  EXPECT_EQ(r.tool_owner_team, "search-platform");
  EXPECT_EQ(r.charged_tags.team, "mail");
  EXPECT_EQ(r.attribution_status, AttributionStatus::kInherited);
}

TEST(ResolveAttributionTest, ToolStepTaggedWithItsOwnerTeamIsDriftAndCallerPays) {
  Step s = Bare();
  s.tags = RootTags();
  s.kind = StepKind::kToolCall;
  s.tool_owner_team = "search-platform";
  s.tags.team = "search-platform";
  absl::StatusOr<Attribution> a = ResolveAttribution(s, RootTags());
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(a->drift, ElementsAre(TagField::kTeam));
  EXPECT_EQ(a->charged.team, "mail");
}

TEST(ResolveAttributionTest, ToolStepTaggedWithAThirdTeamIsDrift) {
  Step s = Bare();
  s.tags = RootTags();
  s.kind = StepKind::kToolCall;
  s.tool_owner_team = "search-platform";
  s.tags.team = "billing";
  absl::StatusOr<Attribution> a = ResolveAttribution(s, RootTags());
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(a->drift, ElementsAre(TagField::kTeam));
  EXPECT_EQ(a->charged.team, "mail");
}

TEST(ResolveAttributionTest, RootOfAnotherRunIsRejected) {
  Tags other = RootTags();
  other.parent_run_id = "run-2";
  EXPECT_EQ(ResolveAttribution(Bare(), other).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ResolveAttributionTest, IncompleteRootTagsAreRejected) {
  Tags root = RootTags();
  root.tenant.clear();
  EXPECT_EQ(ResolveAttribution(Bare(), root).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stepledger::domain::runs
