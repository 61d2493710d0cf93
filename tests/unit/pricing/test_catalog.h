// Test helpers shared by the pricing tests: the shipped catalog paths and an exact decimal
// reader that does not use the code under test.
#ifndef STEPLEDGER_TESTS_UNIT_PRICING_TEST_CATALOG_H_
#define STEPLEDGER_TESTS_UNIT_PRICING_TEST_CATALOG_H_

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::testing {

inline const std::string kCatalogDir = STEPLEDGER_CATALOG_DIR;
inline const std::string kModelPricesPath = kCatalogDir + "/model_prices_and_context_window.json";
inline const std::string kToolPricesPath = kCatalogDir + "/tool_prices.txt";

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Exact value of a decimal number's text in units of 1e-15 USD, computed independently of
// stepledger's ParseUsdDecimal: digits and a power of ten, nothing else. Fails the test when
// the value is not a whole number of units.
inline __int128 ExactFemtoUsd(const std::string& text) {
  std::string mantissa = text;
  int exponent = 0;
  if (size_t e = text.find_first_of("eE"); e != std::string::npos) {
    exponent = std::stoi(text.substr(e + 1));
    mantissa = text.substr(0, e);
  }
  if (size_t dot = mantissa.find('.'); dot != std::string::npos) {
    exponent -= static_cast<int>(mantissa.size() - dot - 1);
    mantissa.erase(dot, 1);
  }
  __int128 value = 0;
  for (char c : mantissa) value = value * 10 + (c - '0');
  int shift = exponent + 15;
  for (; shift > 0; --shift) value *= 10;
  for (; shift < 0; ++shift) {
    EXPECT_EQ(static_cast<int>(value % 10), 0) << text << " is finer than 1e-15 USD";
    value /= 10;
  }
  return value;
}

// Half-up rounding of a non-negative amount of 1e-15 USD to nano-USD.
inline int64_t RoundFemtoToNano(__int128 femto) {
  return static_cast<int64_t>((femto + 500'000) / 1'000'000);
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_UNIT_PRICING_TEST_CATALOG_H_
