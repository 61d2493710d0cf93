#include "server/domain/pricing/usage_convert.h"

#include "gtest/gtest.h"

namespace stepledger::domain::pricing {
namespace {

int64_t Sum(const Usage& u) {
  return u.input_uncached_tokens.value_or(0) + u.cache_read_tokens.value_or(0) +
         u.cache_write_tokens.value_or(0) + u.output_tokens.value_or(0) +
         u.reasoning_tokens.value_or(0);
}

TEST(FromOpenAiUsageTest, SplitsCachedOutOfPromptAndReasoningOutOfCompletion) {
  absl::StatusOr<Usage> usage = FromOpenAiUsage(10'000, 4'000, 3'000, 1'200);
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->input_uncached_tokens, 6'000);
  EXPECT_EQ(usage->cache_read_tokens, 4'000);
  EXPECT_EQ(usage->cache_write_tokens, std::nullopt);
  EXPECT_EQ(usage->output_tokens, 1'800);
  EXPECT_EQ(usage->reasoning_tokens, 1'200);
  // No double counting: the buckets add up to what OpenAI billed, prompt + completion.
  EXPECT_EQ(Sum(*usage), 10'000 + 3'000);
}

TEST(FromOpenAiUsageTest, AbsentDetailsNextToKnownTotalsAreZero) {
  absl::StatusOr<Usage> usage = FromOpenAiUsage(500, std::nullopt, 20, std::nullopt);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->input_uncached_tokens, 500);
  EXPECT_EQ(usage->cache_read_tokens, 0);
  EXPECT_EQ(usage->output_tokens, 20);
  EXPECT_EQ(usage->reasoning_tokens, 0);
}

TEST(FromOpenAiUsageTest, AbsentTotalsStayUnknown) {
  absl::StatusOr<Usage> usage = FromOpenAiUsage(std::nullopt, 40, std::nullopt, std::nullopt);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->input_uncached_tokens, std::nullopt);
  EXPECT_EQ(usage->cache_read_tokens, 40);
  EXPECT_EQ(usage->output_tokens, std::nullopt);
  EXPECT_EQ(usage->reasoning_tokens, std::nullopt);
}

TEST(FromOpenAiUsageTest, RejectsDetailLargerThanTotalNamingTheField) {
  absl::StatusOr<Usage> usage = FromOpenAiUsage(100, 101, 10, 0);
  ASSERT_FALSE(usage.ok());
  EXPECT_EQ(usage.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(usage.status().message().find("cached_tokens"), std::string::npos);
  usage = FromOpenAiUsage(100, 0, 10, 11);
  ASSERT_FALSE(usage.ok());
  EXPECT_NE(usage.status().message().find("reasoning_tokens"), std::string::npos);
  usage = FromOpenAiUsage(-1, 0, 10, 0);
  ASSERT_FALSE(usage.ok());
  EXPECT_NE(usage.status().message().find("prompt_tokens"), std::string::npos);
}

TEST(FromAnthropicUsageTest, MapsOneToOneBecauseCacheTokensAreApartFromInput) {
  absl::StatusOr<Usage> usage = FromAnthropicUsage(1'000, 20'000, 3'000, 500);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->input_uncached_tokens, 1'000);
  EXPECT_EQ(usage->cache_read_tokens, 20'000);
  EXPECT_EQ(usage->cache_write_tokens, 3'000);
  EXPECT_EQ(usage->output_tokens, 500);
  EXPECT_EQ(usage->reasoning_tokens, std::nullopt);
  // Anthropic's total input is input + cache read + cache write; nothing added or lost.
  EXPECT_EQ(Sum(*usage), 1'000 + 20'000 + 3'000 + 500);
}

TEST(FromAnthropicUsageTest, KeepsAbsentCountsAbsentAndRejectsNegatives) {
  absl::StatusOr<Usage> usage = FromAnthropicUsage(10, std::nullopt, std::nullopt, 5);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->cache_read_tokens, std::nullopt);
  EXPECT_EQ(usage->cache_write_tokens, std::nullopt);
  usage = FromAnthropicUsage(10, -2, 0, 5);
  ASSERT_FALSE(usage.ok());
  EXPECT_NE(usage.status().message().find("cache_read_input_tokens"), std::string::npos);
}

}  // namespace
}  // namespace stepledger::domain::pricing
