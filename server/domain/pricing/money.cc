#include "server/domain/pricing/money.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace stepledger::domain::pricing {
namespace {

constexpr int kFemtoDigits = 15;  // FemtoUsd = USD * 10^15.
// Exponents beyond this cannot produce a representable non-zero amount; bounding them keeps
// the arithmetic below free of overflow for hostile input such as "1e999999999999".
constexpr int kMaxExponentMagnitude = 400;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

absl::Status Invalid(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" ", why));
}

}  // namespace

absl::StatusOr<FemtoUsd> ParseUsdDecimal(absl::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') return Invalid(text, "is negative");
  // All significant digits in order, and how many of them came after the decimal point.
  std::string digits;
  size_t int_digits = 0;
  size_t frac_digits = 0;
  while (i < text.size() && IsDigit(text[i])) {
    digits.push_back(text[i++]);
    ++int_digits;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && IsDigit(text[i])) {
      digits.push_back(text[i++]);
      ++frac_digits;
    }
  }
  if (int_digits + frac_digits == 0) return Invalid(text, "is not a decimal number");
  int64_t exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative_exponent = text[i++] == '-';
    size_t exponent_start = i;
    while (i < text.size() && IsDigit(text[i])) {
      exponent = std::min<int64_t>(exponent * 10 + (text[i++] - '0'), kMaxExponentMagnitude + 1);
    }
    if (i == exponent_start) return Invalid(text, "has an empty exponent");
    if (negative_exponent) exponent = -exponent;
  }
  if (i != text.size()) return Invalid(text, "is not a decimal number");

  // value = digits * 10^(exponent - frac_digits); FemtoUsd = digits * 10^shift.
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  if (digits.empty()) return 0;
  if (exponent > kMaxExponentMagnitude) return Invalid(text, "is too large");
  if (exponent < -kMaxExponentMagnitude) {
    return Invalid(text, "is finer than 1e-15 USD and cannot be held exactly");
  }
  int64_t shift = exponent - static_cast<int64_t>(frac_digits) + kFemtoDigits;
  if (shift < 0) {
    size_t drop = static_cast<size_t>(-shift);
    bool exact = drop <= digits.size() &&
                 digits.find_first_not_of('0', digits.size() - drop) == std::string::npos;
    if (!exact) return Invalid(text, "is finer than 1e-15 USD and cannot be held exactly");
    digits.resize(digits.size() - drop);
    shift = 0;
  }
  // INT64_MAX has 19 digits; anything longer overflows for sure.
  if (digits.size() + static_cast<size_t>(shift) > 19) return Invalid(text, "is too large");
  WideAmount value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  for (int64_t k = 0; k < shift; ++k) value *= 10;
  if (value > std::numeric_limits<FemtoUsd>::max()) return Invalid(text, "is too large");
  return static_cast<FemtoUsd>(value);
}

std::string FormatFemtoUsd(FemtoUsd amount) {
  bool negative = amount < 0;
  // Work in unsigned to format INT64_MIN without overflow.
  uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(amount) : static_cast<uint64_t>(amount);
  uint64_t whole = magnitude / static_cast<uint64_t>(kFemtoUsdPerUsd);
  uint64_t frac = magnitude % static_cast<uint64_t>(kFemtoUsdPerUsd);
  std::string out = absl::StrCat(negative ? "-" : "", whole);
  if (frac != 0) {
    std::string frac_text = std::to_string(frac);
    frac_text.insert(0, kFemtoDigits - frac_text.size(), '0');
    frac_text.erase(frac_text.find_last_not_of('0') + 1);
    absl::StrAppend(&out, ".", frac_text);
  }
  return out;
}

std::optional<NanoUsd> RoundToNanoUsdHalfUp(WideAmount amount, int scale_digits) {
  if (amount < 0) return std::nullopt;
  WideAmount divisor = 1;
  for (int k = 0; k < scale_digits; ++k) divisor *= 10;
  WideAmount rounded = (amount / divisor) + ((amount % divisor) * 2 >= divisor ? 1 : 0);
  if (rounded > std::numeric_limits<NanoUsd>::max()) return std::nullopt;
  return static_cast<NanoUsd>(rounded);
}

}  // namespace stepledger::domain::pricing
