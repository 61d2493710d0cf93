#include "server/metrics/top_spenders.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace stepledger::metrics {
namespace {

class TopSpendersTest : public ::testing::Test {
 protected:
  stepledger::testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
};

TEST_F(TopSpendersTest, FreeSlotsAreTakenAtOnce) {
  TopSpenders top({.slots = 2}, clock_);
  EXPECT_TRUE(top.Add("a", 1));
  EXPECT_TRUE(top.Add("b", 1));
  EXPECT_FALSE(top.Add("c", 1000));  // full: it waits for the next re-choice
  EXPECT_TRUE(top.HasSlot("a"));
  EXPECT_FALSE(top.HasSlot("c"));
  EXPECT_FALSE(top.Add("d", 0));  // no spend, no slot
}

TEST_F(TopSpendersTest, ARechoiceGivesTheSlotsToTheLargestSpenders) {
  TopSpenders top({.slots = 2}, clock_);
  top.Add("first", 1);
  top.Add("second", 5);
  top.Add("late-and-large", 1000);
  EXPECT_FALSE(top.MaybeRechoose().has_value());  // not before the interval
  clock_.Advance(absl::Seconds(59));
  EXPECT_FALSE(top.MaybeRechoose().has_value());
  clock_.Advance(absl::Seconds(1));
  const auto change = top.MaybeRechoose();
  ASSERT_TRUE(change.has_value());
  EXPECT_EQ(change->promoted, std::vector<std::string>{"late-and-large"});
  EXPECT_EQ(change->demoted, std::vector<std::string>{"first"});
  EXPECT_TRUE(top.HasSlot("late-and-large"));
  EXPECT_TRUE(top.HasSlot("second"));
  EXPECT_FALSE(top.HasSlot("first"));
  EXPECT_FALSE(top.MaybeRechoose().has_value());  // the next one is a full interval later
}

TEST_F(TopSpendersTest, ATenantThatStopsSpendingLosesItsSlotToOneThatSpendsNow) {
  TopSpenders top({.slots = 1}, clock_);
  top.Add("yesterday", 1'000);
  clock_.Advance(absl::Minutes(1));
  top.MaybeRechoose();
  ASSERT_TRUE(top.HasSlot("yesterday"));
  // Counts halve at every re-choice: 300 a minute overtakes 1,000 spent once, within minutes.
  int minutes = 0;
  while (!top.HasSlot("today") && minutes < 10) {
    top.Add("today", 300);
    clock_.Advance(absl::Minutes(1));
    top.MaybeRechoose();
    ++minutes;
  }
  EXPECT_TRUE(top.HasSlot("today"));
  EXPECT_FALSE(top.HasSlot("yesterday"));
  EXPECT_LE(minutes, 3);
}

TEST_F(TopSpendersTest, MemoryStaysBoundedWhateverClientsSend) {
  TopSpenders top({.slots = 10}, clock_);  // tracks 4 x 10, at least 64
  for (int i = 0; i < 100'000; ++i) top.Add("tenant-" + std::to_string(i), 1 + i % 13);
  EXPECT_LE(top.tracked_keys(), 64u);
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(top.MaybeRechoose().has_value());
  EXPECT_LE(top.tracked_keys(), 64u);
}

TEST_F(TopSpendersTest, AHeavySpenderAmongManySmallOnesIsAlwaysTrackedAndChosen) {
  TopSpenders top({.slots = 3}, clock_);
  for (int i = 0; i < 100'000; ++i) {
    top.Add("small-" + std::to_string(i), 10);
    if (i % 100 == 50) top.Add("heavy", 100);  // 1/11 of all spend, far above 1/tracked
  }
  EXPECT_FALSE(top.HasSlot("heavy"));  // the free slots went to the first small ones
  clock_.Advance(absl::Minutes(1));
  top.MaybeRechoose();
  EXPECT_TRUE(top.HasSlot("heavy"));
}

}  // namespace
}  // namespace stepledger::metrics
