#include "server/catalog/tool_price_file.h"

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/domain/pricing/money.h"

namespace stepledger::catalog {
namespace {

using domain::pricing::FemtoUsd;
using domain::pricing::ToolPrice;

constexpr absl::string_view kNoUnit = "-";

bool IsValidName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '/' && c != '-') {
      return false;
    }
  }
  return true;
}

absl::Status LineError(int line, absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", field, ": ", why));
}

absl::StatusOr<FemtoUsd> ParsePriceField(int line, absl::string_view field,
                                         absl::string_view text) {
  absl::StatusOr<FemtoUsd> price = domain::pricing::ParseUsdDecimal(text);
  if (!price.ok()) return LineError(line, field, price.status().message());
  return price;
}

}  // namespace

absl::StatusOr<ToolPriceMap> LoadToolPriceFile(absl::string_view text) {
  ToolPriceMap tools;
  absl::flat_hash_map<std::string, int> defined_on;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r\v\f"), absl::SkipEmpty());
    if (fields.empty()) continue;
    if (fields.size() != 4) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_number,
          ": expected 4 fields (tool_name per_call_usd per_1k_units_usd unit_name), got ",
          fields.size()));
    }
    ToolPrice price;
    price.name = std::string(fields[0]);
    if (!IsValidName(price.name)) {
      return LineError(line_number, "tool_name",
                       absl::StrCat("\"", price.name, "\" is not [A-Za-z0-9._:/-]+"));
    }
    if (auto [it, inserted] = defined_on.emplace(price.name, line_number); !inserted) {
      return LineError(
          line_number, "tool_name",
          absl::StrCat("\"", price.name, "\" is already defined on line ", it->second));
    }
    absl::StatusOr<FemtoUsd> per_call = ParsePriceField(line_number, "per_call_usd", fields[1]);
    if (!per_call.ok()) return per_call.status();
    absl::StatusOr<FemtoUsd> per_1k = ParsePriceField(line_number, "per_1k_units_usd", fields[2]);
    if (!per_1k.ok()) return per_1k.status();
    price.per_call = *per_call;
    price.per_1k_units = *per_1k;
    if (fields[3] != kNoUnit) {
      if (!IsValidName(fields[3])) {
        return LineError(line_number, "unit_name",
                         absl::StrCat("\"", fields[3], "\" is not [A-Za-z0-9._:/-]+"));
      }
      price.unit_name = std::string(fields[3]);
    } else if (price.per_1k_units != 0) {
      return LineError(line_number, "unit_name",
                       "required (not \"-\") when per_1k_units_usd is not 0");
    }
    tools.emplace(price.name, std::move(price));
  }
  return tools;
}

}  // namespace stepledger::catalog
