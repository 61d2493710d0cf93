#include "server/storage/copy_text.h"

#include "absl/strings/str_cat.h"

namespace stepledger::storage {

void CopyRow::Separator() {
  if (!first_) line_.push_back('\t');
  first_ = false;
}

CopyRow& CopyRow::Text(std::string_view value) {
  Separator();
  for (char c : value) {
    switch (c) {
      case '\\': line_ += "\\\\"; break;
      case '\t': line_ += "\\t"; break;
      case '\n': line_ += "\\n"; break;
      case '\r': line_ += "\\r"; break;
      default: line_.push_back(c);
    }
  }
  return *this;
}

CopyRow& CopyRow::Int(int64_t value) {
  Separator();
  absl::StrAppend(&line_, value);
  return *this;
}

CopyRow& CopyRow::OptionalInt(const std::optional<int64_t>& value) {
  return value.has_value() ? Int(*value) : Null();
}

CopyRow& CopyRow::Time(absl::Time value) {
  Separator();
  line_ += PgTimestamp(value);
  return *this;
}

CopyRow& CopyRow::OptionalTime(const std::optional<absl::Time>& value) {
  return value.has_value() ? Time(*value) : Null();
}

CopyRow& CopyRow::Bytea(std::string_view bytes) {
  Separator();
  static constexpr char kHex[] = "0123456789abcdef";
  line_ += "\\\\x";  // COPY unescapes "\\" to "\", giving bytea's "\x" hex form
  for (unsigned char b : bytes) {
    line_.push_back(kHex[b >> 4]);
    line_.push_back(kHex[b & 0xf]);
  }
  return *this;
}

CopyRow& CopyRow::Null() {
  Separator();
  line_ += "\\N";
  return *this;
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days).
void CivilFromDays(int64_t days, int64_t& year, int& month, int& day) {
  days += 719468;
  const int64_t era = FloorDiv(days, 146097);
  const int64_t doe = days - era * 146097;                                // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                 // [0, 11]
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = yoe + era * 400 + (month <= 2 ? 1 : 0);
}

void AppendDigits(std::string& out, int64_t value, int width) {
  char buf[8];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(buf, width);
}

}  // namespace

std::string PgTimestamp(absl::Time t) {
  // absl::FormatTime goes through the time-zone library on every call, and the write path
  // formats three timestamps per step (it was 7% of the collector's CPU under load), so UTC is
  // formatted here by hand. Same text as FormatTime("%Y-%m-%d %H:%M:%E6S+00").
  const int64_t micros = absl::ToUnixMicros(t);
  const int64_t seconds = FloorDiv(micros, 1'000'000);
  const int64_t days = FloorDiv(seconds, 86'400);
  const int64_t second_of_day = seconds - days * 86'400;
  int64_t year = 0;
  int month = 0;
  int day = 0;
  CivilFromDays(days, year, month, day);
  if (year < 1000 || year > 9999) {  // absl does not zero-pad %Y
    return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00", t, absl::UTCTimeZone());
  }
  std::string out;
  out.reserve(29);
  AppendDigits(out, year, 4);
  out += '-';
  AppendDigits(out, month, 2);
  out += '-';
  AppendDigits(out, day, 2);
  out += ' ';
  AppendDigits(out, second_of_day / 3600, 2);
  out += ':';
  AppendDigits(out, second_of_day / 60 % 60, 2);
  out += ':';
  AppendDigits(out, second_of_day % 60, 2);
  out += '.';
  AppendDigits(out, micros - seconds * 1'000'000, 6);
  out += "+00";
  return out;
}

}  // namespace stepledger::storage
