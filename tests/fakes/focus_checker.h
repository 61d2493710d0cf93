// Test helpers for report files: an RFC 4180 CSV reader, exact USD decimals to nano-USD, and a
// checker of the FOCUS 1.2 rules that can be decided from the file alone (column names,
// presence of the mandatory columns, data types, nullability, allowed values, period
// boundaries). Written from the specification's column definitions, independently of the
// renderer, so a renderer bug cannot hide in a shared helper.
#ifndef STEPLEDGER_TESTS_FAKES_FOCUS_CHECKER_H_
#define STEPLEDGER_TESTS_FAKES_FOCUS_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stepledger::testing {

// Rows of a CSV document (quoted fields may hold commas, quotes and line breaks).
inline std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else if (c != '\r') {
      field.push_back(c);
    }
  }
  if (any) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

// "12.345000001" or "-0.5" -> nano-USD, exactly; nullopt when not a plain decimal with at most
// nine fraction digits.
inline std::optional<int64_t> ParseNanoUsd(const std::string& text) {
  static const std::regex kDecimal(R"(^-?[0-9]+(\.[0-9]{1,9})?$)");
  if (!std::regex_match(text, kDecimal)) return std::nullopt;
  const bool negative = text[0] == '-';
  const std::string body = negative ? text.substr(1) : text;
  const size_t dot = body.find('.');
  const std::string whole = body.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : body.substr(dot + 1);
  frac.resize(9, '0');
  const int64_t nano = std::stoll(whole) * 1'000'000'000 + std::stoll(frac);
  return negative ? -nano : nano;
}

// A header-indexed view of a CSV file.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

inline CsvTable ReadCsvTable(const std::string& text) {
  CsvTable t;
  std::vector<std::vector<std::string>> rows = ParseCsv(text);
  if (rows.empty()) return t;
  t.header = rows[0];
  for (size_t i = 1; i < rows.size(); ++i) {
    std::map<std::string, std::string> m;
    for (size_t c = 0; c < t.header.size() && c < rows[i].size(); ++c) m[t.header[c]] = rows[i][c];
    if (rows[i].size() != t.header.size()) m["__width_mismatch"] = "1";
    t.rows.push_back(std::move(m));
  }
  return t;
}

// Every violation of the FOCUS 1.2 rules decidable from the file; empty when conformant.
// In CSV a null is an empty field.
inline std::vector<std::string> CheckFocus12(const std::string& csv) {
  std::vector<std::string> errors;
  const CsvTable t = ReadCsvTable(csv);
  // The 21 mandatory columns of FOCUS 1.2 and ChargeFrequency (recommended).
  static const std::vector<std::string> kMandatory = {
      "BilledCost",        "BillingAccountId",   "BillingAccountName", "BillingCurrency",
      "BillingPeriodEnd",  "BillingPeriodStart", "ChargeCategory",     "ChargeClass",
      "ChargeDescription", "ChargePeriodEnd",    "ChargePeriodStart",  "ContractedCost",
      "EffectiveCost",     "InvoiceIssuerName",  "ListCost",           "PricingQuantity",
      "PricingUnit",       "ProviderName",       "PublisherName",      "ServiceCategory",
      "ServiceName",       "ChargeFrequency"};
  std::set<std::string> seen;
  static const std::regex kPascal("^[A-Z][A-Za-z0-9]*$");
  static const std::regex kCustom("^x_[A-Za-z0-9_]+$");
  for (const std::string& c : t.header) {
    if (!seen.insert(c).second) errors.push_back(absl::StrCat("duplicate column ", c));
    if (!std::regex_match(c, kPascal) && !std::regex_match(c, kCustom)) {
      errors.push_back(absl::StrCat("column name ", c, ": neither PascalCase nor x_ prefixed"));
    }
  }
  for (const std::string& c : kMandatory) {
    if (!seen.count(c)) errors.push_back(absl::StrCat("missing mandatory column ", c));
  }
  if (!errors.empty()) return errors;
  static const std::set<std::string> kChargeCategory = {"Usage", "Purchase", "Tax", "Credit",
                                                        "Adjustment"};
  static const std::set<std::string> kChargeFrequency = {"One-Time", "Recurring", "Usage-Based"};
  static const std::set<std::string> kServiceCategory = {"AI and Machine Learning",
                                                         "Analytics",
                                                         "Business Applications",
                                                         "Compute",
                                                         "Databases",
                                                         "Developer Tools",
                                                         "Multicloud",
                                                         "Identity",
                                                         "Integration",
                                                         "Internet of Things",
                                                         "Management and Governance",
                                                         "Media",
                                                         "Migration",
                                                         "Mobile",
                                                         "Networking",
                                                         "Security",
                                                         "Storage",
                                                         "Web",
                                                         "Other"};
  static const std::regex kDateTime(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$)");
  static const std::regex kCurrency("^[A-Z]{3}$");
  static const std::regex kNumber(R"(^-?[0-9]+(\.[0-9]+)?$)");
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const auto& r = t.rows[i];
    const std::string where = absl::StrCat("row ", i + 2, ": ");
    auto v = [&r](const std::string& c) { return r.at(c); };
    if (r.count("__width_mismatch")) errors.push_back(where + "field count differs from header");
    for (const char* c :
         {"BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd",
          "BillingPeriodStart", "ChargeCategory", "ChargePeriodEnd", "ChargePeriodStart",
          "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName",
          "PublisherName", "ServiceCategory", "ServiceName", "ChargeFrequency",
          "BillingAccountName", "ChargeDescription"}) {
      if (v(c).empty()) errors.push_back(absl::StrCat(where, c, " is null"));
    }
    for (const char* c : {"BilledCost", "ContractedCost", "EffectiveCost", "ListCost"}) {
      if (!v(c).empty() && !std::regex_match(v(c), kNumber)) {
        errors.push_back(absl::StrCat(where, c, " is not a decimal: ", v(c)));
      }
    }
    for (const char* c :
         {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}) {
      if (!std::regex_match(v(c), kDateTime)) {
        errors.push_back(absl::StrCat(where, c, " is not an ISO 8601 UTC date-time: ", v(c)));
      }
    }
    if (!std::regex_match(v("BillingCurrency"), kCurrency)) {
      errors.push_back(where + "BillingCurrency is not an ISO 4217 code");
    }
    if (!kChargeCategory.count(v("ChargeCategory"))) {
      errors.push_back(where + "ChargeCategory not an allowed value: " + v("ChargeCategory"));
    }
    if (!v("ChargeClass").empty() && v("ChargeClass") != "Correction") {
      errors.push_back(where + "ChargeClass neither null nor Correction: " + v("ChargeClass"));
    }
    if (!kChargeFrequency.count(v("ChargeFrequency"))) {
      errors.push_back(where + "ChargeFrequency not an allowed value: " + v("ChargeFrequency"));
    }
    if (v("ChargeCategory") == "Purchase" && v("ChargeFrequency") == "Usage-Based") {
      errors.push_back(where + "a Purchase cannot be Usage-Based");
    }
    if (!kServiceCategory.count(v("ServiceCategory"))) {
      errors.push_back(where + "ServiceCategory not an allowed value: " + v("ServiceCategory"));
    }
    const bool correction = v("ChargeClass") == "Correction";
    const bool usage_or_purchase =
        v("ChargeCategory") == "Usage" || v("ChargeCategory") == "Purchase";
    for (const auto& [q, u] : std::vector<std::pair<std::string, std::string>>{
             {"PricingQuantity", "PricingUnit"}, {"ConsumedQuantity", "ConsumedUnit"}}) {
      if (!r.count(q)) continue;
      if (!v(q).empty() && !std::regex_match(v(q), kNumber)) {
        errors.push_back(absl::StrCat(where, q, " is not a decimal: ", v(q)));
      }
      if (v(q).empty() != v(u).empty()) {
        errors.push_back(absl::StrCat(where, u, " must be null exactly when ", q, " is"));
      }
    }
    if (usage_or_purchase && !correction && v("PricingQuantity").empty()) {
      errors.push_back(where + "PricingQuantity is null on a Usage/Purchase row");
    }
    if (r.count("ConsumedQuantity")) {
      if (v("ChargeCategory") == "Usage" && !correction && v("ConsumedQuantity").empty()) {
        errors.push_back(where + "ConsumedQuantity is null on a Usage row");
      }
      if (v("ChargeCategory") != "Usage" && !v("ConsumedQuantity").empty()) {
        errors.push_back(where + "ConsumedQuantity on a row that is not Usage");
      }
    }
    if (r.count("SubAccountName") && r.count("SubAccountId") &&
        v("SubAccountId").empty() != v("SubAccountName").empty()) {
      errors.push_back(where + "SubAccountName must be null exactly when SubAccountId is");
    }
    if (r.count("Tags") && !v("Tags").empty()) {
      const nlohmann::json tags = nlohmann::json::parse(v("Tags"), nullptr, false);
      if (tags.is_discarded() || !tags.is_object()) {
        errors.push_back(where + "Tags is not a JSON object");
      }
    }
    // Periods: start before end; a charge inside its billing period unless it corrects an
    // earlier one.
    if (!(v("ChargePeriodStart") < v("ChargePeriodEnd"))) {
      errors.push_back(where + "ChargePeriodStart is not before ChargePeriodEnd");
    }
    if (!(v("BillingPeriodStart") < v("BillingPeriodEnd"))) {
      errors.push_back(where + "BillingPeriodStart is not before BillingPeriodEnd");
    }
    if (!correction && (v("ChargePeriodStart") < v("BillingPeriodStart") ||
                        v("ChargePeriodEnd") > v("BillingPeriodEnd"))) {
      errors.push_back(where + "charge period outside its billing period");
    }
    if (correction && v("ChargePeriodStart") >= v("BillingPeriodStart")) {
      errors.push_back(where + "a Correction must correct an earlier billing period");
    }
  }
  return errors;
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_FOCUS_CHECKER_H_
