#include "server/storage/copy_text.h"

#include <random>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace stepledger::storage {
namespace {

std::string Reference(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
}

TEST(PgTimestampTest, FormatsAKnownInstant) {
  const absl::Time t = absl::FromUnixMicros(1795865588123456);  // 2026-11-28 11:33:08.123456
  EXPECT_EQ(PgTimestamp(t), "2026-11-28 11:33:08.123456+00");
}

TEST(PgTimestampTest, EdgesOfDaysMonthsAndLeapYears) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  for (const absl::CivilSecond& c :
       {absl::CivilSecond(1970, 1, 1, 0, 0, 0), absl::CivilSecond(1969, 12, 31, 23, 59, 59),
        absl::CivilSecond(2000, 2, 29, 12, 0, 0), absl::CivilSecond(2100, 3, 1, 0, 0, 0),
        absl::CivilSecond(2028, 2, 29, 23, 59, 59), absl::CivilSecond(2026, 12, 31, 23, 59, 59),
        absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::CivilSecond(9999, 12, 31, 23, 59, 59)}) {
    const absl::Time t = absl::FromCivil(c, utc) + absl::Microseconds(999999);
    EXPECT_EQ(PgTimestamp(t), Reference(t)) << absl::FormatCivilTime(c);
  }
}

TEST(PgTimestampTest, MatchesAbslFormattingOverRandomInstants) {
  std::mt19937_64 rng(20261128);
  // 1900 .. 2200, microsecond resolution, including instants before the epoch.
  std::uniform_int_distribution<int64_t> micros(-2'208'988'800'000'000, 7'258'118'400'000'000);
  for (int i = 0; i < 100'000; ++i) {
    const absl::Time t = absl::FromUnixMicros(micros(rng));
    ASSERT_EQ(PgTimestamp(t), Reference(t));
  }
}

TEST(PgTimestampTest, OutOfRangeYearsFallBackToAbsl) {
  const absl::Time t = absl::FromCivil(absl::CivilSecond(12000, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  EXPECT_EQ(PgTimestamp(t), Reference(t));
}

}  // namespace
}  // namespace stepledger::storage
