#include "server/domain/runs/pending_tracker.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stepledger::domain::runs {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

Step Bare(const std::string& run_id, const std::string& step_id) {
  Step s;
  s.event_id = "e-" + run_id + "-" + step_id;
  s.step_id = step_id;
  s.parent_step_id = "root";
  s.tags.parent_run_id = run_id;
  s.tags.environment = Environment::kProduction;
  s.kind = StepKind::kToolCall;
  s.tool_owner_team = "search-platform";
  return s;
}

Tags RootTags(const std::string& run_id) {
  return {"inbox-triage",           "mail", WorkloadClass::kInteractive, "acme",
          Environment::kProduction, run_id};
}

TEST(PendingTrackerTest, StepWaitsThenInheritsWhenRootArrives) {
  PendingTracker tracker;
  ASSERT_TRUE(tracker.Track(Bare("r1", "b"), kT0 + absl::Seconds(2)).ok());
  ASSERT_TRUE(tracker.Track(Bare("r1", "a"), kT0).ok());
  ASSERT_TRUE(tracker.Track(Bare("r2", "a"), kT0).ok());
  std::vector<ResolvedStep> resolved = tracker.OnRootArrived("r1", RootTags("r1"));
  ASSERT_EQ(resolved.size(), 2u);
  EXPECT_EQ(resolved[0].step.step_id, "a");  // Earliest deadline first.
  for (const ResolvedStep& r : resolved) {
    EXPECT_EQ(r.attribution.status, AttributionStatus::kInherited);
    EXPECT_EQ(r.attribution.charged.team, "mail");         // The calling feature pays...
    EXPECT_EQ(r.step.tool_owner_team, "search-platform");  // ...the owner is still shown.
  }
  PendingTrackerStats stats = tracker.Stats();
  EXPECT_EQ(stats.pending, 1u);  // r2 is untouched.
  EXPECT_EQ(stats.resolved, 2u);
  EXPECT_TRUE(tracker.OnRootArrived("r1", RootTags("r1")).empty());
}

TEST(PendingTrackerTest, ExpiresAsRootNeverArrivedAtTheDefaultFifteenMinutes) {
  PendingTracker tracker;
  ASSERT_TRUE(tracker.Track(Bare("r1", "a"), kT0).ok());
  EXPECT_TRUE(tracker.ExpireDue(kT0 + absl::Minutes(15) - absl::Seconds(1)).empty());
  std::vector<ExpiredStep> expired = tracker.ExpireDue(kT0 + absl::Minutes(15));
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].step.step_id, "a");
  EXPECT_EQ(expired[0].reason, "root_never_arrived");
  EXPECT_EQ(expired[0].deadline, kT0 + absl::Minutes(15));
  EXPECT_EQ(tracker.Stats().expired, 1u);
  EXPECT_EQ(tracker.Stats().pending, 0u);
  EXPECT_TRUE(tracker.OnRootArrived("r1", RootTags("r1")).empty());
}

TEST(PendingTrackerTest, ExpiresOnlyWhatIsDueInDeadlineOrder) {
  PendingTracker tracker({.wait = absl::Minutes(5), .max_entries = 100});
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(tracker.Track(Bare("r", absl::StrCat("s", i)), kT0 + absl::Minutes(5 - i)).ok());
  }
  std::vector<ExpiredStep> expired = tracker.ExpireDue(kT0 + absl::Minutes(7));
  ASSERT_EQ(expired.size(), 3u);
  EXPECT_EQ(expired[0].step.step_id, "s5");
  EXPECT_EQ(expired[2].step.step_id, "s3");
  EXPECT_EQ(tracker.Stats().pending, 3u);
}

TEST(PendingTrackerTest, ReSentStepIsTrackedOnce) {
  PendingTracker tracker;
  ASSERT_TRUE(tracker.Track(Bare("r1", "a"), kT0).ok());
  ASSERT_TRUE(tracker.Track(Bare("r1", "a"), kT0 + absl::Minutes(1)).ok());
  EXPECT_EQ(tracker.Stats().pending, 1u);
  // The first deadline holds: a re-send does not extend the wait.
  EXPECT_EQ(tracker.ExpireDue(kT0 + absl::Minutes(15)).size(), 1u);
}

TEST(PendingTrackerTest, FullTrackerDropsEarliestDeadlineFromMemoryOnly) {
  PendingTracker tracker({.wait = absl::Minutes(15), .max_entries = 2});
  ASSERT_TRUE(tracker.Track(Bare("r1", "old"), kT0).ok());
  ASSERT_TRUE(tracker.Track(Bare("r1", "mid"), kT0 + absl::Seconds(1)).ok());
  ASSERT_TRUE(tracker.Track(Bare("r2", "new"), kT0 + absl::Seconds(2)).ok());
  PendingTrackerStats stats = tracker.Stats();
  EXPECT_EQ(stats.pending, 2u);
  EXPECT_EQ(stats.evicted_for_capacity, 1u);
  EXPECT_EQ(stats.expired, 0u);  // Not expired early: it stays pending in PostgreSQL.
  std::vector<ResolvedStep> resolved = tracker.OnRootArrived("r1", RootTags("r1"));
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].step.step_id, "mid");
}

TEST(PendingTrackerTest, RootArrivingAfterTheDeadlineStillResolvesUncollectedSteps) {
  PendingTracker tracker;
  ASSERT_TRUE(tracker.Track(Bare("r1", "a"), kT0).ok());
  EXPECT_EQ(tracker.OnRootArrived("r1", RootTags("r1")).size(), 1u);
  EXPECT_TRUE(tracker.ExpireDue(kT0 + absl::Hours(1)).empty());
}

TEST(PendingTrackerTest, StepsThatCannotWaitAreRejected) {
  PendingTracker tracker;
  Step no_run = Bare("", "a");
  EXPECT_EQ(tracker.Track(no_run, kT0).code(), absl::StatusCode::kInvalidArgument);
  Step root = Bare("r1", "a");
  root.parent_step_id.clear();
  EXPECT_EQ(tracker.Track(root, kT0).code(), absl::StatusCode::kInvalidArgument);
  Step tagged = Bare("r1", "a");
  tagged.tags = RootTags("r1");
  EXPECT_EQ(tracker.Track(tagged, kT0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tracker.Stats().pending, 0u);
}

TEST(PendingTrackerTest, RootTagsOfAnotherRunResolveNothing) {
  PendingTracker tracker;
  ASSERT_TRUE(tracker.Track(Bare("r1", "a"), kT0).ok());
  // Wrong run's tags: the step stays, to be resolved by its own root or to expire.
  EXPECT_TRUE(tracker.OnRootArrived("r1", RootTags("r9")).empty());
  EXPECT_EQ(tracker.Stats().pending, 1u);
}

}  // namespace
}  // namespace stepledger::domain::runs
