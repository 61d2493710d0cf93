// Builds rows in PostgreSQL's COPY text format (tab-separated, backslash escapes, \N = NULL).
// Used by the write path to stream rows into a staging table. Timestamps are written by
// PgTimestamp (pg_time.h), the one formatter of time for SQL text.
#ifndef STEPLEDGER_SERVER_STORAGE_COPY_TEXT_H_
#define STEPLEDGER_SERVER_STORAGE_COPY_TEXT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "server/storage/pg_time.h"  // PgTimestamp: CopyRow::Time writes it; callers use it too

namespace stepledger::storage {

class CopyRow {
 public:
  CopyRow& Text(std::string_view value);
  CopyRow& Int(int64_t value);
  CopyRow& OptionalInt(const std::optional<int64_t>& value);
  CopyRow& Time(absl::Time value);
  CopyRow& OptionalTime(const std::optional<absl::Time>& value);
  CopyRow& Bytea(std::string_view bytes);  // raw bytes, written as \x hex
  CopyRow& Null();

  // The line without its trailing newline (stream_to::write_raw_line adds it).
  const std::string& line() const { return line_; }
  void Clear() {
    line_.clear();
    first_ = true;
  }

 private:
  void Separator();
  std::string line_;
  bool first_ = true;
};

// A PostgreSQL text[] literal for a bound parameter: every element double-quoted, \ and "
// escaped, e.g. {"a","b\"c"}.
template <typename Range>
std::string PgTextArray(const Range& values) {
  std::string out = "{";
  bool first = true;
  for (const auto& v : values) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    for (char c : v) {
      if (c == '\\' || c == '"') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_COPY_TEXT_H_
