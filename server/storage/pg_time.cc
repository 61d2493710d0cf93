#include "server/storage/pg_time.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace stepledger::storage {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// An instant split into UTC fields, proleptic Gregorian calendar, astronomical years (0 = 1 BC).
struct UtcParts {
  int64_t year = 0;
  int month = 0;
  int day = 0;
  int64_t second_of_day = 0;
  int64_t nanos = 0;  // [0, 999'999'999]
};

// Days since 1970-01-01 to a date (Howard Hinnant's civil_from_days).
void CivilFromDays(int64_t days, UtcParts& out) {
  days += 719468;
  const int64_t era = FloorDiv(days, 146097);
  const int64_t doe = days - era * 146097;                                    // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  out.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  out.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  out.year = yoe + era * 400 + (out.month <= 2 ? 1 : 0);
}

// REQUIRES: t is finite.
UtcParts Split(absl::Time t) {
  UtcParts p;
  const int64_t seconds = absl::ToUnixSeconds(t);  // rounds toward the infinite past
  p.nanos = absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds));
  const int64_t days = FloorDiv(seconds, 86'400);
  p.second_of_day = seconds - days * 86'400;
  CivilFromDays(days, p);
  return p;
}

// REQUIRES: 0 <= value < 10^width, width <= 9.
void AppendDigits(std::string& out, int64_t value, int width) {
  char buf[9];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, width);
}

// REQUIRES: value >= 0. At least four digits, more when the value needs them.
void AppendYearDigits(std::string& out, int64_t value) {
  if (value <= 9999) {
    AppendDigits(out, value, 4);
  } else {
    absl::StrAppend(&out, value);
  }
}

void AppendMonthDay(std::string& out, const UtcParts& p) {
  out += '-';
  AppendDigits(out, p.month, 2);
  out += '-';
  AppendDigits(out, p.day, 2);
}

void AppendClock(std::string& out, const UtcParts& p) {
  AppendDigits(out, p.second_of_day / 3600, 2);
  out += ':';
  AppendDigits(out, p.second_of_day / 60 % 60, 2);
  out += ':';
  AppendDigits(out, p.second_of_day % 60, 2);
}

}  // namespace

void AppendPgTimestamp(std::string& out, absl::Time t) {
  if (t == absl::InfiniteFuture()) {
    out += "infinity";
    return;
  }
  if (t == absl::InfinitePast()) {
    out += "-infinity";
    return;
  }
  const UtcParts p = Split(t);
  if (p.year >= 1 && p.year <= 9999) {
    // Every staged row has several timestamps, nearly all in this range: the fixed-width text
    // is written into a buffer and appended once.
    char text[] = "0000-00-00 00:00:00.000000+00";
    const auto put = [&text](size_t at, int64_t value, int width) {
      for (int i = width - 1; i >= 0; --i) {
        text[at + i] = static_cast<char>('0' + value % 10);
        value /= 10;
      }
    };
    put(0, p.year, 4);
    put(5, p.month, 2);
    put(8, p.day, 2);
    put(11, p.second_of_day / 3600, 2);
    put(14, p.second_of_day / 60 % 60, 2);
    put(17, p.second_of_day % 60, 2);
    put(20, p.nanos / 1000, 6);
    out.append(text, sizeof(text) - 1);
    return;
  }
  const bool before_christ = p.year <= 0;
  AppendYearDigits(out, before_christ ? 1 - p.year : p.year);
  AppendMonthDay(out, p);
  out += ' ';
  AppendClock(out, p);
  out += '.';
  AppendDigits(out, p.nanos / 1000, 6);
  out += "+00";
  if (before_christ) out += " BC";
}

std::string PgTimestamp(absl::Time t) {
  std::string out;
  out.reserve(32);
  AppendPgTimestamp(out, t);
  return out;
}

std::string PgDate(absl::CivilDay day) {
  UtcParts p;
  p.year = day.year();
  p.month = day.month();
  p.day = day.day();
  const bool before_christ = p.year <= 0;
  std::string out;
  out.reserve(14);
  AppendYearDigits(out, before_christ ? 1 - p.year : p.year);
  AppendMonthDay(out, p);
  if (before_christ) out += " BC";
  return out;
}

std::string Rfc3339Utc(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "infinite-future";  // absl's own words for these
  if (t == absl::InfinitePast()) return "infinite-past";
  const UtcParts p = Split(t);
  std::string out;
  out.reserve(36);
  if (p.year < 0) {
    out += '-';
    AppendYearDigits(out, -p.year);
  } else {
    if (p.year > 9999) out += '+';
    AppendYearDigits(out, p.year);
  }
  AppendMonthDay(out, p);
  out += 'T';
  AppendClock(out, p);
  if (p.nanos != 0) {
    out += '.';
    int64_t nanos = p.nanos;
    int width = 9;
    while (nanos % 10 == 0) {
      nanos /= 10;
      --width;
    }
    AppendDigits(out, nanos, width);
  }
  out += "+00:00";
  return out;
}

}  // namespace stepledger::storage
