#include "server/domain/ingest/text.h"

#include <string>

#include "gtest/gtest.h"

namespace stepledger::domain::ingest {
namespace {

TEST(TextTest, AcceptsAsciiAndWellFormedMultibyteUtf8) {
  EXPECT_TRUE(IsStorableText(""));
  EXPECT_TRUE(IsStorableText("plan step"));
  EXPECT_TRUE(IsStorableText("r\xc3\xa9sum\xc3\xa9"));  // 2-byte
  EXPECT_TRUE(IsStorableText("\xe2\x82\xac 5"));        // 3-byte (euro sign)
  EXPECT_TRUE(IsStorableText("\xf0\x9f\x93\x84"));      // 4-byte
  EXPECT_TRUE(IsStorableText("\xf4\x8f\xbf\xbf"));      // U+10FFFF, the last code point
}

TEST(TextTest, RejectsWhatPostgresTextRejects) {
  EXPECT_FALSE(IsStorableText(std::string("a\0b", 3)));  // NUL
  EXPECT_FALSE(IsStorableText("\xff\xfe"));              // never valid in UTF-8
  EXPECT_FALSE(IsStorableText("\xc0\xaf"));              // overlong '/'
  EXPECT_FALSE(IsStorableText("\xe0\x80\xaf"));          // overlong, 3 bytes
  EXPECT_FALSE(IsStorableText("\xed\xa0\x80"));          // UTF-16 surrogate D800
  EXPECT_FALSE(IsStorableText("\xf4\x90\x80\x80"));      // above U+10FFFF
  EXPECT_FALSE(IsStorableText("\xe2\x82"));              // truncated sequence
  EXPECT_FALSE(IsStorableText("\x80"));                  // lone continuation byte
}

TEST(TextTest, EscapeLeavesStorableTextAlone) {
  EXPECT_EQ(EscapeUnstorable("a\\b r\xc3\xa9"), "a\\b r\xc3\xa9");
}

TEST(TextTest, EscapeShowsEveryBadByteAndBackslashAsHex) {
  EXPECT_EQ(EscapeUnstorable("n\xff\xfe"), "n\\xff\\xfe");
  EXPECT_EQ(EscapeUnstorable(std::string("a\0\\", 3)), "a\\x00\\x5c");
  // Good sequences next to bad bytes are kept as they are.
  EXPECT_EQ(EscapeUnstorable("\xc3\xa9\xc3"), "\xc3\xa9\\xc3");
  EXPECT_TRUE(IsStorableText(EscapeUnstorable("\xed\xa0\x80\x00x")));
}

}  // namespace
}  // namespace stepledger::domain::ingest
