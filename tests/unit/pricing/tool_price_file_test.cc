#include "server/catalog/tool_price_file.h"

#include "gtest/gtest.h"
#include "server/catalog/catalog_files.h"
#include "tests/unit/pricing/test_catalog.h"

namespace stepledger::catalog {
namespace {

void ExpectError(absl::string_view text, absl::string_view want) {
  absl::StatusOr<ToolPriceMap> tools = LoadToolPriceFile(text);
  ASSERT_FALSE(tools.ok()) << text;
  EXPECT_EQ(tools.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tools.status().message().find(want), absl::string_view::npos)
      << tools.status() << " does not contain " << want;
}

TEST(ToolPriceFileTest, ParsesLinesCommentsAndBlankLines) {
  absl::StatusOr<ToolPriceMap> tools = LoadToolPriceFile(
      "# header\n"
      "\n"
      "web_search   0.01  0     -   # trailing comment\r\n"
      "\trerank      0     2e-2  documents\n"
      "sandbox 0.0005 0.05 seconds");
  ASSERT_TRUE(tools.ok()) << tools.status();
  ASSERT_EQ(tools->size(), 3u);
  EXPECT_EQ(tools->at("web_search").per_call, 10'000'000'000'000);
  EXPECT_EQ(tools->at("web_search").per_1k_units, 0);
  EXPECT_EQ(tools->at("web_search").unit_name, "");
  EXPECT_EQ(tools->at("rerank").per_1k_units, 20'000'000'000'000);
  EXPECT_EQ(tools->at("rerank").unit_name, "documents");
  EXPECT_EQ(tools->at("sandbox").per_call, 500'000'000'000);
}

TEST(ToolPriceFileTest, ShippedExampleLoads) {
  absl::StatusOr<std::string> text = ReadTextFile(testing::kToolPricesPath);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<ToolPriceMap> tools = LoadToolPriceFile(*text);
  ASSERT_TRUE(tools.ok()) << tools.status();
  EXPECT_GE(tools->size(), 4u);
  EXPECT_EQ(tools->at("cohere_rerank").unit_name, "documents");
  EXPECT_EQ(tools->at("openai_web_search").per_call, 10'000'000'000'000);
}

TEST(ToolPriceFileTest, ErrorsNameTheLineAndTheField) {
  ExpectError("a 0.01 0\n", "line 1: expected 4 fields");
  ExpectError("# c\nok 0 0 -\nbad 0.0x 0 -\n", "line 3: per_call_usd:");
  ExpectError("t 0 -1 units\n", "line 1: per_1k_units_usd:");
  ExpectError("t 0 1e-16 units\n", "line 1: per_1k_units_usd:");
  ExpectError("t 0 0.5 -\n", "line 1: unit_name:");
  ExpectError("t 0 0 -\n\nt 1 0 -\n", "line 3: tool_name: \"t\" is already defined on line 1");
  ExpectError("bad$name 0 0 -\n", "line 1: tool_name:");
}

TEST(CatalogFilesTest, MissingFileIsNotFoundNamingThePath) {
  absl::StatusOr<std::string> text = ReadTextFile("/nonexistent/stepledger/prices.json");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(text.status().message().find("/nonexistent/stepledger/prices.json"),
            absl::string_view::npos);
}

TEST(CatalogFilesTest, LoadsAVersionFromTheShippedFiles) {
  absl::Time from = absl::FromUnixSeconds(1'800'000'000);
  absl::StatusOr<domain::pricing::PriceVersion> version = LoadPriceVersionFromFiles(
      "2026-07-24", from, testing::kModelPricesPath, testing::kToolPricesPath);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->id, "2026-07-24");
  EXPECT_EQ(version->effective_from, from);
  EXPECT_NE(version->FindModel("anthropic", "claude-opus-4-1"), nullptr);
  EXPECT_NE(version->FindTool("code_sandbox"), nullptr);

  absl::StatusOr<domain::pricing::PriceVersion> models_only =
      LoadPriceVersionFromFiles("m", from, testing::kModelPricesPath, "");
  ASSERT_TRUE(models_only.ok());
  EXPECT_TRUE(models_only->tools.empty());
}

}  // namespace
}  // namespace stepledger::catalog
