// PeriodicTask: ticks repeat until Stop, the first one waits an interval unless run_at_start,
// and none runs after Stop has returned.
#include "server/app/periodic_task.h"

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace stepledger::app {
namespace {

struct Counter {
  absl::Mutex mu;
  int ticks ABSL_GUARDED_BY(mu) = 0;
  int wanted ABSL_GUARDED_BY(mu) = 0;

  void Tick() {
    absl::MutexLock lock(&mu);
    ++ticks;
  }
  // True when `n` ticks were counted within `timeout`.
  bool AwaitAtLeast(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu);
    wanted = n;
    return mu.AwaitWithTimeout(absl::Condition(this, &Counter::Reached), timeout);
  }
  bool Reached() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return ticks >= wanted; }
  int Count() {
    absl::MutexLock lock(&mu);
    return ticks;
  }
};

TEST(PeriodicTaskTest, TicksRepeatUntilStoppedAndNeverAfter) {
  Counter counter;
  PeriodicTask task(absl::Milliseconds(1), [&counter] { counter.Tick(); });
  EXPECT_TRUE(counter.AwaitAtLeast(3, absl::Seconds(10)));
  task.Stop();
  const int at_stop = counter.Count();
  task.Stop();  // a second Stop is harmless
  EXPECT_EQ(counter.Count(), at_stop);
}

TEST(PeriodicTaskTest, RunAtStartTicksAtOnceOtherwiseAfterAnInterval) {
  Counter at_start, later;
  PeriodicTask first(
      absl::Hours(1), [&at_start] { at_start.Tick(); }, /*run_at_start=*/true);
  PeriodicTask second(absl::Hours(1), [&later] { later.Tick(); });
  EXPECT_TRUE(at_start.AwaitAtLeast(1, absl::Seconds(10)));
  first.Stop();
  second.Stop();  // wakes the hour-long wait at once
  EXPECT_EQ(at_start.Count(), 1);
  EXPECT_EQ(later.Count(), 0);
}

}  // namespace
}  // namespace stepledger::app
