#include "server/storage/step_json.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::storage {
namespace {

// What the JSON text means, compared as parsed values.
void ExpectRoundTrip(const std::map<std::string, std::string>& attributes) {
  const nlohmann::json parsed = nlohmann::json::parse(AttributesToJson(attributes));
  ASSERT_TRUE(parsed.is_object());
  ASSERT_EQ(parsed.size(), attributes.size());
  for (const auto& [k, v] : attributes) {
    ASSERT_TRUE(parsed.contains(k)) << k;
    EXPECT_EQ(parsed.at(k).get<std::string>(), v) << k;
  }
}

TEST(AttributesToJsonTest, EmptyIsAnEmptyObject) { EXPECT_EQ(AttributesToJson({}), "{}"); }

TEST(AttributesToJsonTest, PlainAsciiIsWrittenDirectly) {
  EXPECT_EQ(AttributesToJson({{"gateway", "eu-1"}, {"sdk", "py/1.2"}}),
            R"({"gateway":"eu-1","sdk":"py/1.2"})");
}

TEST(AttributesToJsonTest, QuotesBackslashesAndControlCharactersAreEscaped) {
  ExpectRoundTrip({{"quote\"key", "a \"quoted\" value"},
                   {"back\\slash", "C:\\temp\\"},
                   {"controls", std::string("tab\tnew\nline\rbell\x07 unit\x1f")}});
  EXPECT_EQ(AttributesToJson({{"k", "a\"b\\c\n"}}), R"({"k":"a\"b\\c\u000a"})");
}

TEST(AttributesToJsonTest, NonAsciiTextKeepsItsMeaning) {
  ExpectRoundTrip({{"city", "Zürich"}, {"greeting", "こんにちは"}, {"plain", "ascii"}});
}

}  // namespace
}  // namespace stepledger::storage
