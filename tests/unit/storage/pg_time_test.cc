#include "server/storage/pg_time.h"

#include <random>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/storage/copy_text.h"

namespace stepledger::storage {
namespace {

const absl::TimeZone kUtc = absl::UTCTimeZone();

// The expected text, built from absl's civil fields rather than from %Y (which does not pad).
std::string Reference(absl::Time t) {
  const absl::TimeZone::CivilInfo c = kUtc.At(t);
  return absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d.%06d+00", c.cs.year(), c.cs.month(),
                         c.cs.day(), c.cs.hour(), c.cs.minute(), c.cs.second(),
                         absl::ToInt64Microseconds(c.subsecond));
}

absl::Time At(int64_t year, int month, int day, int hour = 0, int minute = 0, int second = 0) {
  return absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second), kUtc);
}

TEST(PgTimestampTest, FormatsAKnownInstant) {
  const absl::Time t = absl::FromUnixMicros(1795865588123456);  // 2026-11-28 11:33:08.123456
  EXPECT_EQ(PgTimestamp(t), "2026-11-28 11:33:08.123456+00");
}

TEST(PgTimestampTest, YearsBelowOneThousandAreZeroPadded) {
  // PostgreSQL reads "1-01-01" as 2001-01-01: the year must have four digits.
  EXPECT_EQ(PgTimestamp(At(1, 1, 1)), "0001-01-01 00:00:00.000000+00");
  EXPECT_EQ(PgTimestamp(At(9, 12, 31, 23, 59, 59)), "0009-12-31 23:59:59.000000+00");
  EXPECT_EQ(PgTimestamp(At(99, 6, 15, 1, 2, 3) + absl::Microseconds(7)),
            "0099-06-15 01:02:03.000007+00");
  EXPECT_EQ(PgTimestamp(At(999, 12, 31, 23, 59, 59)), "0999-12-31 23:59:59.000000+00");
  EXPECT_EQ(PgTimestamp(At(1000, 1, 1)), "1000-01-01 00:00:00.000000+00");
}

TEST(PgTimestampTest, EdgesOfDaysMonthsAndLeapYears) {
  for (const absl::CivilSecond& c :
       {absl::CivilSecond(1970, 1, 1, 0, 0, 0), absl::CivilSecond(1969, 12, 31, 23, 59, 59),
        absl::CivilSecond(2000, 2, 29, 12, 0, 0), absl::CivilSecond(2100, 3, 1, 0, 0, 0),
        absl::CivilSecond(2028, 2, 29, 23, 59, 59), absl::CivilSecond(2026, 12, 31, 23, 59, 59),
        absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::CivilSecond(400, 2, 29, 0, 0, 0),
        absl::CivilSecond(9999, 12, 31, 23, 59, 59)}) {
    const absl::Time t = absl::FromCivil(c, kUtc) + absl::Microseconds(999999);
    EXPECT_EQ(PgTimestamp(t), Reference(t)) << absl::FormatCivilTime(c);
  }
}

TEST(PgTimestampTest, MatchesCivilFieldsOverEveryValidYear) {
  std::mt19937_64 rng(20261128);
  // 0001-01-01 .. 9999-12-31, microsecond resolution, including instants before the epoch.
  std::uniform_int_distribution<int64_t> micros(absl::ToUnixMicros(At(1, 1, 1)),
                                                absl::ToUnixMicros(At(10000, 1, 1)) - 1);
  for (int i = 0; i < 100'000; ++i) {
    const absl::Time t = absl::FromUnixMicros(micros(rng));
    ASSERT_EQ(PgTimestamp(t), Reference(t));
  }
}

TEST(PgTimestampTest, TruncatesBelowAMicrosecondNeverRoundsUp) {
  const absl::Time t = At(1999, 12, 31, 23, 59, 59) + absl::Nanoseconds(999'999'999);
  EXPECT_EQ(PgTimestamp(t), "1999-12-31 23:59:59.999999+00");
  EXPECT_EQ(PgTimestamp(absl::FromUnixNanos(-1)), "1969-12-31 23:59:59.999999+00");
}

TEST(PgTimestampTest, YearsOutsideOneToNineThousandNineHundredNinetyNine) {
  EXPECT_EQ(PgTimestamp(At(12000, 1, 1)), "12000-01-01 00:00:00.000000+00");
  // Astronomical year 0 is 1 BC, -1 is 2 BC: PostgreSQL's era suffix.
  EXPECT_EQ(PgTimestamp(At(0, 12, 31, 23, 59, 59)), "0001-12-31 23:59:59.000000+00 BC");
  EXPECT_EQ(PgTimestamp(At(-1, 1, 1)), "0002-01-01 00:00:00.000000+00 BC");
  EXPECT_EQ(PgTimestamp(absl::InfiniteFuture()), "infinity");
  EXPECT_EQ(PgTimestamp(absl::InfinitePast()), "-infinity");
}

TEST(PgTimestampTest, AppendKeepsWhatTheStringHeld) {
  std::string out = "a|";
  AppendPgTimestamp(out, At(2026, 12, 6, 7, 8, 9) + absl::Microseconds(10));
  out += '|';
  AppendPgTimestamp(out, At(0, 1, 1));
  out += '|';
  AppendPgTimestamp(out, absl::InfinitePast());
  EXPECT_EQ(out, "a|2026-12-06 07:08:09.000010+00|0001-01-01 00:00:00.000000+00 BC|-infinity");
}

TEST(PgTimestampTest, CopyRowsWriteTheSameText) {
  CopyRow row;
  row.Time(At(7, 3, 4, 5, 6, 7)).OptionalTime(std::nullopt);
  EXPECT_EQ(row.line(), "0007-03-04 05:06:07.000000+00\t\\N");
}

TEST(PgDateTest, PadsTheYear) {
  EXPECT_EQ(PgDate(absl::CivilDay(2026, 11, 28)), "2026-11-28");
  EXPECT_EQ(PgDate(absl::CivilDay(1, 1, 1)), "0001-01-01");
  EXPECT_EQ(PgDate(absl::CivilDay(987, 6, 5)), "0987-06-05");
}

TEST(Rfc3339UtcTest, MatchesAbslForFourDigitYears) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> seconds(absl::ToUnixSeconds(At(1000, 1, 1)),
                                                 absl::ToUnixSeconds(At(10000, 1, 1)) - 1);
  std::uniform_int_distribution<int64_t> nanos(0, 999'999'999);
  for (int i = 0; i < 20'000; ++i) {
    // Every fourth instant on a whole second or millisecond, so trailing-zero trimming is hit.
    int64_t n = nanos(rng);
    if (i % 4 == 1) n = 0;
    if (i % 4 == 2) n -= n % 1'000'000;
    const absl::Time t = absl::FromUnixSeconds(seconds(rng)) + absl::Nanoseconds(n);
    ASSERT_EQ(Rfc3339Utc(t), absl::FormatTime(absl::RFC3339_full, t, kUtc));
  }
}

TEST(Rfc3339UtcTest, YearsBelowOneThousandAreZeroPadded) {
  EXPECT_EQ(Rfc3339Utc(At(1, 1, 1)), "0001-01-01T00:00:00+00:00");
  EXPECT_EQ(Rfc3339Utc(At(42, 2, 3, 4, 5, 6) + absl::Milliseconds(250)),
            "0042-02-03T04:05:06.25+00:00");
  EXPECT_EQ(Rfc3339Utc(At(-1, 1, 1)), "-0001-01-01T00:00:00+00:00");
  EXPECT_EQ(Rfc3339Utc(At(12000, 1, 1)), "+12000-01-01T00:00:00+00:00");
}

}  // namespace
}  // namespace stepledger::storage
