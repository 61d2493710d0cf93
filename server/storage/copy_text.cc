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
      case '\\':
        line_ += "\\\\";
        break;
      case '\t':
        line_ += "\\t";
        break;
      case '\n':
        line_ += "\\n";
        break;
      case '\r':
        line_ += "\\r";
        break;
      default:
        line_.push_back(c);
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

}  // namespace stepledger::storage
