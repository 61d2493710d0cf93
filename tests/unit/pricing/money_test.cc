#include "server/domain/pricing/money.h"

#include "gtest/gtest.h"

namespace stepledger::domain::pricing {
namespace {

TEST(ParseUsdDecimalTest, ConvertsLiteLlmNumbersExactly) {
  EXPECT_EQ(*ParseUsdDecimal("2.5e-06"), 2'500'000'000);
  EXPECT_EQ(*ParseUsdDecimal("3.625e-09"), 3'625'000);
  EXPECT_EQ(*ParseUsdDecimal("1e-15"), 1);
  EXPECT_EQ(*ParseUsdDecimal("0.0"), 0);
  EXPECT_EQ(*ParseUsdDecimal("0"), 0);
  EXPECT_EQ(*ParseUsdDecimal("3"), 3'000'000'000'000'000);
  EXPECT_EQ(*ParseUsdDecimal("1E+2"), 100'000'000'000'000'000);
  EXPECT_EQ(*ParseUsdDecimal("0.0275"), 27'500'000'000'000);
  EXPECT_EQ(*ParseUsdDecimal("1.50000000000000000000e-06"), 1'500'000'000);
}

TEST(ParseUsdDecimalTest, RejectsWhatCannotBeHeldExactly) {
  EXPECT_FALSE(ParseUsdDecimal("1e-16").ok());
  EXPECT_FALSE(ParseUsdDecimal("0.0002833333333333333").ok());
  EXPECT_FALSE(ParseUsdDecimal("-1e-06").ok());
  EXPECT_FALSE(ParseUsdDecimal("10000").ok());  // 1e19 FemtoUsd > INT64_MAX
  EXPECT_FALSE(ParseUsdDecimal("1e999999999999").ok());
  EXPECT_FALSE(ParseUsdDecimal("").ok());
  EXPECT_FALSE(ParseUsdDecimal("abc").ok());
  EXPECT_FALSE(ParseUsdDecimal("1e").ok());
  EXPECT_FALSE(ParseUsdDecimal("1.2.3").ok());
  EXPECT_EQ(*ParseUsdDecimal("0e999999999999"), 0);
}

TEST(ParseUsdDecimalTest, ErrorSaysWhy) {
  absl::StatusOr<FemtoUsd> parsed = ParseUsdDecimal("1e-16");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("finer than 1e-15"), std::string::npos);
}

TEST(FormatFemtoUsdTest, PrintsPlainDecimal) {
  EXPECT_EQ(FormatFemtoUsd(2'500'000'000), "0.0000025");
  EXPECT_EQ(FormatFemtoUsd(0), "0");
  EXPECT_EQ(FormatFemtoUsd(3'000'000'000'000'000), "3");
  EXPECT_EQ(FormatFemtoUsd(1), "0.000000000000001");
}

TEST(RoundToNanoUsdHalfUpTest, RoundsHalfUpOnce) {
  EXPECT_EQ(RoundToNanoUsdHalfUp(1'499'999, 6), 1);
  EXPECT_EQ(RoundToNanoUsdHalfUp(1'500'000, 6), 2);
  EXPECT_EQ(RoundToNanoUsdHalfUp(499'999, 6), 0);
  EXPECT_EQ(RoundToNanoUsdHalfUp(500'000, 6), 1);
  EXPECT_EQ(RoundToNanoUsdHalfUp(7, 0), 7);
  EXPECT_EQ(RoundToNanoUsdHalfUp(-1, 6), std::nullopt);
  WideAmount too_big = static_cast<WideAmount>(INT64_MAX) * 1'000'000 + 500'000;
  EXPECT_EQ(RoundToNanoUsdHalfUp(too_big, 6), std::nullopt);
  EXPECT_EQ(RoundToNanoUsdHalfUp(too_big - 1, 6), INT64_MAX);
}

}  // namespace
}  // namespace stepledger::domain::pricing
