#include "server/storage/copy_text.h"

#include "absl/strings/str_cat.h"

namespace stepledger::storage {

void CopyRow::Separator() {
  if (!first_) line_.push_back('\t');
  first_ = false;
}

CopyRow& CopyRow::Text(std::string_view value) {
  Separator();
  // Every text column of every staged row passes here and almost none needs an escape: copy
  // the runs between escapes in one append each rather than byte by byte.
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    std::string_view escape;
    switch (value[i]) {
      case '\\':
        escape = "\\\\";
        break;
      case '\t':
        escape = "\\t";
        break;
      case '\n':
        escape = "\\n";
        break;
      case '\r':
        escape = "\\r";
        break;
      default:
        continue;
    }
    line_.append(value.data() + run, i - run);
    line_ += escape;
    run = i + 1;
  }
  line_.append(value.data() + run, value.size() - run);
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
  AppendPgTimestamp(line_, value);
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
