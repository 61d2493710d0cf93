// The CLI's one dollar parser and its money formatters (client/cli/money.h): exact decimal
// text to nano-USD and back, never through floating point.
#include "client/cli/money.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

constexpr int64_t kNano = 1'000'000'000;

int64_t Parsed(const std::string& text) {
  absl::StatusOr<int64_t> v = ParseDollars(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  return v.value_or(-1);
}

TEST(ParseDollarsTest, WholeAndFractionalDollarsBecomeExactNanoUsd) {
  EXPECT_EQ(Parsed("12"), 12 * kNano);
  EXPECT_EQ(Parsed("12.5"), 12'500'000'000);
  EXPECT_EQ(Parsed("0.50"), 500'000'000);
  EXPECT_EQ(Parsed("0.000000001"), 1);
  EXPECT_EQ(Parsed("0"), 0);
  EXPECT_EQ(Parsed("007.10"), 7'100'000'000);
}

TEST(ParseDollarsTest, DecimalsThatFloatingPointCannotRepresentAreExact) {
  // 0.1 + 0.2 != 0.3 in binary floating point; in nano-USD it must be.
  EXPECT_EQ(Parsed("0.1") + Parsed("0.2"), Parsed("0.3"));
  EXPECT_EQ(Parsed("1234567.891234567"), 1'234'567'891'234'567);
  EXPECT_EQ(Parsed("0.29"), 290'000'000);  // 0.29 * 1e9 is 289999999.99... as a double
}

TEST(ParseDollarsTest, AcceptsDollarSignThousandsSeparatorsAndSpaces) {
  EXPECT_EQ(Parsed("$1,250.75"), 1'250'750'000'000);
  EXPECT_EQ(Parsed(" 5 "), 5 * kNano);
  EXPECT_EQ(Parsed("1,000,000"), 1'000'000 * kNano);
}

TEST(ParseDollarsTest, TheMaximumIsOneBillionDollars) {
  EXPECT_EQ(Parsed("1000000000"), 1'000'000'000 * kNano);
  EXPECT_FALSE(ParseDollars("1000000000.000000001").ok());
  EXPECT_FALSE(ParseDollars("1000000001").ok());
  EXPECT_FALSE(ParseDollars("99999999999999999999999").ok());  // would overflow int64
}

TEST(ParseDollarsTest, RejectsWhatItCannotRepresentExactlyInsteadOfRounding) {
  EXPECT_FALSE(ParseDollars("0.0000000001").ok());  // 10 decimals: below a nano-dollar
  EXPECT_FALSE(ParseDollars("1.2345678901").ok());
}

TEST(ParseDollarsTest, RejectsMalformedAndNegativeAmounts) {
  for (const char* bad : {"", "$", "-1", "-0.5", "1e3", "12.", ".5", "1.2.3", "abc", "12 USD",
                          "1,25", "12,", ",12", "1,2345", "0x10", "nan", "inf", "1_000"}) {
    EXPECT_FALSE(ParseDollars(bad).ok()) << "\"" << bad << "\" was accepted";
  }
  absl::Status s = ParseDollars("-3").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("negative"), absl::string_view::npos) << s;
}

TEST(FormatNanoUsdTest, PrintsCentsAndOnlyTheSignificantSubCentDigits) {
  EXPECT_EQ(FormatNanoUsd(12'500'000'000), "12.50");
  EXPECT_EQ(FormatNanoUsd(0), "0.00");
  EXPECT_EQ(FormatNanoUsd(1), "0.000000001");
  EXPECT_EQ(FormatNanoUsd(1'234'500'000), "1.2345");
  EXPECT_EQ(FormatNanoUsd(-5 * kNano), "-5.00");
  EXPECT_EQ(FormatNanoUsd(std::numeric_limits<int64_t>::min()), "-9223372036.854775808");
}

TEST(FormatNanoUsdTest, RoundTripsThroughParseDollars) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{999'999'999}, int64_t{40'000'000'000},
                    int64_t{1'234'567'891'234'567}}) {
    EXPECT_EQ(Parsed(FormatNanoUsd(v)), v) << v;
  }
}

TEST(DollarsTest, PutsTheSignBeforeTheDollarSign) {
  EXPECT_EQ(Dollars(12'500'000'000), "$12.50");
  EXPECT_EQ(Dollars(-7'632'000), "-$0.007632");
}

TEST(FormatFemtoUsdTest, PrintsPerTokenRatesExactly) {
  EXPECT_EQ(FormatFemtoUsd(2'500'000'000), "0.0000025");  // $2.50 per 1M tokens
  EXPECT_EQ(FormatFemtoUsd(1), "0.000000000000001");
  EXPECT_EQ(FormatFemtoUsd(0), "0");
  EXPECT_EQ(FormatFemtoUsd(3'000'000'000'000'000), "3");
}

TEST(CountTest, GroupsThousands) {
  EXPECT_EQ(Count(0), "0");
  EXPECT_EQ(Count(999), "999");
  EXPECT_EQ(Count(1'234'567), "1,234,567");
}

}  // namespace
}  // namespace stepledger::client
