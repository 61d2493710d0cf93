#include "client/cli/money.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stepledger::client {
namespace {

// The largest amount the CLI takes: far above any real cap or invoice, far from overflow.
constexpr int64_t kMaxDollars = 1'000'000'000;

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// Debian's Abseil has its own absl::string_view, so std::string_view is trimmed here.
std::string_view Strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool ToInt(std::string_view s, int64_t* out) { return absl::SimpleAtoi(std::string(s), out); }

absl::Status DollarError(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("expected a dollar amount like 12.50, got \"",
                                                 std::string(text), "\": ", std::string(why)));
}

// Integer part with optional ',' thousands separators: "1,250" -> "1250".
absl::StatusOr<std::string> StripThousands(std::string_view whole, std::string_view text) {
  if (whole.find(',') == std::string_view::npos) return std::string(whole);
  std::vector<std::string_view> groups;
  for (size_t from = 0;;) {
    const size_t comma = whole.find(',', from);
    groups.push_back(
        whole.substr(from, comma == std::string_view::npos ? whole.npos : comma - from));
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    const bool ok =
        AllDigits(groups[i]) && (i == 0 ? groups[i].size() <= 3 : groups[i].size() == 3);
    if (!ok) return DollarError(text, "misplaced ','");
  }
  std::string joined;
  for (std::string_view g : groups) joined.append(g);
  return joined;
}

// |value| / 10^scale as a decimal with at least `min_decimals` decimals, trailing zeros beyond
// them dropped.
std::string FormatScaled(int64_t value, int scale, size_t min_decimals) {
  const bool negative = value < 0;
  // Magnitude as unsigned so INT64_MIN is representable.
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  uint64_t unit = 1;
  for (int i = 0; i < scale; ++i) unit *= 10;
  std::string frac = std::to_string(magnitude % unit);
  frac.insert(0, scale - frac.size(), '0');
  while (frac.size() > min_decimals && frac.back() == '0') frac.pop_back();
  return absl::StrCat(negative ? "-" : "", magnitude / unit, frac.empty() ? "" : ".", frac);
}

}  // namespace

absl::StatusOr<int64_t> ParseDollars(std::string_view text) {
  std::string_view rest = Strip(text);
  if (!rest.empty() && rest.front() == '$') rest.remove_prefix(1);
  if (rest.empty()) return DollarError(text, "empty");
  if (rest.front() == '-') return DollarError(text, "must not be negative");
  if (rest.front() == '+') rest.remove_prefix(1);
  const size_t dot = rest.find('.');
  std::string_view whole_text = rest.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
  if (dot != std::string_view::npos && frac.empty()) {
    return DollarError(text, "no digits after '.'");
  }
  absl::StatusOr<std::string> whole = StripThousands(whole_text, text);
  if (!whole.ok()) return whole.status();
  if (!AllDigits(*whole)) return DollarError(text, "not a decimal number");
  if (!frac.empty() && !AllDigits(frac)) return DollarError(text, "not a decimal number");
  if (frac.size() > 9) {
    return DollarError(text, "more than 9 decimals (a nano-dollar is the smallest unit)");
  }
  // Leading zeros do not count towards the size limit.
  std::string_view digits = *whole;
  while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
  int64_t dollars = 0;
  if (digits.size() > 10 || !ToInt(digits, &dollars) || dollars > kMaxDollars) {
    return DollarError(text, "above the $1,000,000,000 maximum");
  }
  std::string nanos_text(frac);
  nanos_text.append(9 - nanos_text.size(), '0');
  int64_t nanos = 0;
  if (!ToInt(nanos_text, &nanos)) return DollarError(text, "not a decimal number");
  const int64_t total = dollars * kNanoUsdPerUsd + nanos;
  if (total > kMaxDollars * kNanoUsdPerUsd) {
    return DollarError(text, "above the $1,000,000,000 maximum");
  }
  return total;
}

std::string FormatNanoUsd(int64_t nano_usd) { return FormatScaled(nano_usd, 9, 2); }

std::string Dollars(int64_t nano_usd) {
  const std::string text = FormatNanoUsd(nano_usd);
  return text[0] == '-' ? "-$" + text.substr(1) : "$" + text;
}

std::string FormatFemtoUsd(int64_t femto_usd) { return FormatScaled(femto_usd, 15, 0); }

std::string Count(int64_t n) {
  const std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace stepledger::client
