// The nightly rollup schedule, driven by a fake clock.
#include "server/domain/reports/rollup_scheduler.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace stepledger::domain::reports {
namespace {

absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

TEST(RollupScheduleTest, ParsesTimeOfDay) {
  EXPECT_EQ(*ParseTimeOfDay("00:30"), absl::Minutes(30));
  EXPECT_EQ(*ParseTimeOfDay("23:59"), absl::Hours(23) + absl::Minutes(59));
  EXPECT_FALSE(ParseTimeOfDay("24:00").ok());
  EXPECT_FALSE(ParseTimeOfDay("noon").ok());
}

TEST(RollupScheduleTest, NextRunIsTodayIfNotYetPassedElseTomorrow) {
  EXPECT_EQ(NextRunTime(Utc(2025, 3, 1, 0, 10), absl::Minutes(30)), Utc(2025, 3, 1, 0, 30));
  EXPECT_EQ(NextRunTime(Utc(2025, 3, 1, 0, 30), absl::Minutes(30)), Utc(2025, 3, 2, 0, 30));
  EXPECT_EQ(NextRunTime(Utc(2024, 2, 28, 12, 0), absl::Minutes(30)), Utc(2024, 2, 29, 0, 30));
}

TEST(RollupScheduleTest, RerunsTheLastDaysBackDaysEndingYesterday) {
  const DayRange r = DaysToRoll(Utc(2025, 3, 1, 0, 30), 3);
  EXPECT_EQ(r.from, absl::CivilDay(2025, 2, 26));
  EXPECT_EQ(r.to, absl::CivilDay(2025, 2, 28));
}

TEST(RollupSchedulerTest, RunsOncePerNightAndRetriesAfterAFailure) {
  testing::FakeClock clock(Utc(2025, 3, 1, 12, 0));
  std::vector<DayRange> calls;
  absl::Status next = absl::OkStatus();
  RollupScheduler scheduler(clock, {.time_of_day = absl::Hours(1), .days_back = 2},
                            [&](const DayRange& r) {
                              calls.push_back(r);
                              return next;
                            });
  EXPECT_FALSE(scheduler.Tick());
  clock.Set(Utc(2025, 3, 2, 0, 59));
  EXPECT_FALSE(scheduler.Tick());
  clock.Set(Utc(2025, 3, 2, 1, 0));
  EXPECT_TRUE(scheduler.Tick());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].from, absl::CivilDay(2025, 2, 28));
  EXPECT_EQ(calls[0].to, absl::CivilDay(2025, 3, 1));
  clock.Advance(absl::Hours(2));
  EXPECT_FALSE(scheduler.Tick());  // once per night

  clock.Set(Utc(2025, 3, 3, 1, 0));
  next = absl::UnavailableError("db down");
  EXPECT_TRUE(scheduler.Tick());
  clock.Advance(absl::Minutes(9));
  EXPECT_FALSE(scheduler.Tick());
  next = absl::OkStatus();
  clock.Advance(absl::Minutes(1));
  EXPECT_TRUE(scheduler.Tick());  // retried 10 minutes later
  EXPECT_EQ(calls.size(), 3u);
  EXPECT_EQ(scheduler.next_run(), Utc(2025, 3, 4, 1, 0));
}

}  // namespace
}  // namespace stepledger::domain::reports
