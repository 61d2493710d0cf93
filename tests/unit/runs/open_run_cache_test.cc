#include "server/domain/runs/open_run_cache.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace stepledger::domain::runs {
namespace {

using ::stepledger::testing::FakeClock;

Step StepOf(const std::string& run_id, const std::string& step_id, const std::string& parent) {
  Step s;
  s.event_id = "e-" + step_id;
  s.step_id = step_id;
  s.parent_step_id = parent;
  s.tags.parent_run_id = run_id;
  return s;
}

Tags TeamTags(const std::string& run_id, const std::string& team) {
  Tags t;
  t.feature = "f";
  t.team = team;
  t.tenant = "t";
  t.workload_class = WorkloadClass::kBatch;
  t.parent_run_id = run_id;
  return t;
}

class OpenRunCacheTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
};

TEST_F(OpenRunCacheTest, RootTagsAreRememberedFromTheObservedRoot) {
  OpenRunCache cache(clock_, {});
  cache.Observe(StepOf("r1", "child", "root"), {});
  EXPECT_FALSE(cache.FindRootTags("r1").has_value());
  cache.Observe(StepOf("r1", "root", ""), TeamTags("r1", "mail"));
  std::optional<OpenRun> run = cache.Find("r1");
  ASSERT_TRUE(run.has_value());
  ASSERT_TRUE(run->root_tags.has_value());
  EXPECT_EQ(run->root_tags->team, "mail");
  EXPECT_EQ(run->root_step_id, "root");
  EXPECT_EQ(run->steps_observed, 2);
}

TEST_F(OpenRunCacheTest, StepsWithoutRunAreIgnored) {
  OpenRunCache cache(clock_, {});
  cache.Observe(StepOf("", "x", ""), {});
  EXPECT_EQ(cache.Stats().open_runs, 0u);
}

TEST_F(OpenRunCacheTest, FirstRememberedRootIsKept) {
  OpenRunCache cache(clock_, {});
  cache.RememberRoot("r1", "a", TeamTags("r1", "mail"));
  cache.RememberRoot("r1", "b", TeamTags("r1", "other"));
  EXPECT_EQ(cache.FindRootTags("r1")->team, "mail");
  EXPECT_EQ(cache.Find("r1")->steps_observed, 0);
}

TEST_F(OpenRunCacheTest, EvictsLeastRecentlyObservedRunWhenFull) {
  OpenRunCache cache(clock_, {.max_runs = 2, .ttl = absl::Hours(1)});
  cache.Observe(StepOf("a", "s", ""), TeamTags("a", "t"));
  clock_.Advance(absl::Seconds(1));
  cache.Observe(StepOf("b", "s", ""), TeamTags("b", "t"));
  clock_.Advance(absl::Seconds(1));
  cache.Observe(StepOf("a", "s2", "s"), {});  // "a" is now the most recent.
  cache.Observe(StepOf("c", "s", ""), TeamTags("c", "t"));
  EXPECT_TRUE(cache.Find("a").has_value());
  EXPECT_FALSE(cache.Find("b").has_value());
  EXPECT_TRUE(cache.Find("c").has_value());
  OpenRunCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.open_runs, 2u);
  EXPECT_EQ(stats.evicted_by_size, 1u);
  EXPECT_EQ(stats.evictions(), 1u);
}

TEST_F(OpenRunCacheTest, IdleRunExpiresAfterTtlAndIsCounted) {
  OpenRunCache cache(clock_, {.max_runs = 10, .ttl = absl::Minutes(30)});
  cache.Observe(StepOf("a", "s", ""), TeamTags("a", "t"));
  clock_.Advance(absl::Minutes(30));
  EXPECT_TRUE(cache.Find("a").has_value());  // Exactly at the TTL: still open.
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(cache.Find("a").has_value());
  EXPECT_EQ(cache.Stats().evicted_by_ttl, 1u);
  EXPECT_EQ(cache.Stats().open_runs, 0u);
}

TEST_F(OpenRunCacheTest, ObservingAStepRefreshesTheTtlButLookingDoesNot) {
  OpenRunCache cache(clock_, {.max_runs = 10, .ttl = absl::Minutes(30)});
  cache.Observe(StepOf("a", "s", ""), TeamTags("a", "t"));
  clock_.Advance(absl::Minutes(20));
  cache.Observe(StepOf("a", "s2", "s"), {});
  clock_.Advance(absl::Minutes(20));
  EXPECT_TRUE(cache.Find("a").has_value());  // 20 min after the last step.
  clock_.Advance(absl::Minutes(11));
  EXPECT_FALSE(cache.Find("a").has_value());
}

TEST_F(OpenRunCacheTest, ExpireIdleSweepsOnlyIdleRuns) {
  OpenRunCache cache(clock_, {.max_runs = 10, .ttl = absl::Minutes(10)});
  for (int i = 0; i < 5; ++i) cache.Observe(StepOf(absl::StrCat("old", i), "s", ""), {});
  clock_.Advance(absl::Minutes(8));
  cache.Observe(StepOf("young", "s", ""), {});
  clock_.Advance(absl::Minutes(3));
  EXPECT_EQ(cache.ExpireIdle(), 5u);
  EXPECT_EQ(cache.Stats().open_runs, 1u);
  EXPECT_EQ(cache.Stats().evicted_by_ttl, 5u);
  EXPECT_TRUE(cache.Find("young").has_value());
}

TEST_F(OpenRunCacheTest, ConcurrentObserversStayWithinTheCap) {
  OpenRunCache cache(clock_, {.max_runs = 50, .ttl = absl::Hours(1)});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string run = absl::StrCat("r", (i * 7 + t) % 120);
        cache.Observe(StepOf(run, absl::StrCat("s", i), i % 3 == 0 ? "" : "x"), {});
        cache.FindRootTags(run);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  OpenRunCacheStats stats = cache.Stats();
  EXPECT_LE(stats.open_runs, 50u);
  EXPECT_GT(stats.evicted_by_size, 0u);
}

}  // namespace
}  // namespace stepledger::domain::runs
