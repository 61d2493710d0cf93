#include "server/storage/copy_text.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace stepledger::storage {
namespace {

TEST(CopyRowTest, ColumnsAreTabSeparatedAndNullIsBackslashN) {
  CopyRow row;
  row.Int(7).Text("plain").Null().OptionalInt(std::nullopt).OptionalInt(-42);
  EXPECT_EQ(row.line(), "7\tplain\t\\N\t\\N\t-42");
}

TEST(CopyRowTest, EscapesAreWrittenWhereverTheyFallAndTheRestIsKept) {
  CopyRow row;
  row.Text("")
      .Text("\\")
      .Text("a\tb\nc\rd\\e")
      .Text("\t\tlead")
      .Text("trail\n")
      .Text("no escapes at all, quite a long value");
  EXPECT_EQ(row.line(),
            "\t\\\\\ta\\tb\\nc\\rd\\\\e\t\\t\\tlead\ttrail\\n\tno escapes at all, quite a long "
            "value");
}

TEST(CopyRowTest, TimeAndBytesAreAppendedToTheRow) {
  CopyRow row;
  row.Text("x")
      .Time(absl::FromUnixMicros(1795865588123456))
      .OptionalTime(std::nullopt)
      .Bytea(std::string("\x00\xff", 2));
  EXPECT_EQ(row.line(), "x\t2026-11-28 11:33:08.123456+00\t\\N\t\\\\x00ff");
  row.Clear();
  row.Text("again");
  EXPECT_EQ(row.line(), "again");
}

}  // namespace
}  // namespace stepledger::storage
