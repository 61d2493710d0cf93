#include "client/cli/budget_file.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/money.h"
#include "nlohmann/json.hpp"

namespace stepledger::client {
namespace {

using stepledger::v1::Cap;
using Json = nlohmann::json;

constexpr int32_t kBasisPointsPerWhole = 10000;  // 100%: basis points are 1/10000

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// Shortest decimal that round-trips `value`, in fixed notation, or an error when that needs
// more than 15 significant digits (then it may not be what was written).
absl::StatusOr<std::string> ExactDecimalOf(double value, std::string_view field) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (ec != std::errc()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": number out of range"));
  }
  std::string text(buf, end);
  int significant = 0;
  bool leading = true;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) continue;
    if (leading && c == '0') continue;
    leading = false;
    ++significant;
  }
  // Trailing zeros of an integer ("1000000") are not significant for this purpose.
  if (text.find('.') == std::string::npos) {
    for (auto it = text.rbegin(); it != text.rend() && *it == '0' && significant > 1; ++it) {
      --significant;
    }
  }
  if (significant > 15) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(field), ": ", text,
                     " has more digits than a JSON number keeps exactly; write it as a "
                     "string, e.g. \"",
                     text, "\""));
  }
  return text;
}

// Debian's Abseil has its own absl::string_view, so std::string_view is trimmed here.
std::string_view Strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

// absl::SimpleAtoi takes absl::string_view, which std::string_view does not convert to.
template <typename Int>
bool ToInt(std::string_view s, Int* out) {
  return absl::SimpleAtoi(std::string(s), out);
}

std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

std::string EnumName(const std::string& full, std::string_view prefix) {
  std::string name = full;
  if (name.rfind(prefix, 0) == 0) name.erase(0, prefix.size());
  return Lower(name);
}

// Field accessors for one cap object of a file; `where` is "caps[i]".
absl::StatusOr<std::string> StringField(const Json& obj, const char* name, const std::string& where,
                                        bool required) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(where, ".", name, ": required"));
    return std::string();
  }
  if (!it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".", name, ": must be a string"));
  }
  return it->get<std::string>();
}

// A number or a string holding a decimal, as its decimal text.
absl::StatusOr<std::string> DecimalField(const Json& obj, const char* name,
                                         const std::string& where, bool required) {
  const std::string field = absl::StrCat(where, ".", name);
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
    return std::string();
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return absl::StrCat(it->get<uint64_t>());
  if (it->is_number_integer()) return absl::StrCat(it->get<int64_t>());
  if (it->is_number_float()) return ExactDecimalOf(it->get<double>(), field);
  return absl::InvalidArgumentError(absl::StrCat(field, ": must be a number or a decimal string"));
}

absl::Status Prefixed(const absl::Status& s, const std::string& field) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", s.message()));
}

absl::StatusOr<Cap> CapFromJson(const Json& obj, const std::string& where) {
  static const std::set<std::string> kKnown = {"id",     "scope",         "key",    "environment",
                                               "period", "limit_usd",     "action", "threshold_pct",
                                               "owner",  "signed_off_by", "shadow", "stale_policy",
                                               "note"};
  if (!obj.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": must be an object"));
  }
  for (const auto& [name, value] : obj.items()) {
    if (kKnown.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown field \"", name,
                                                     "\" (fields: id, scope, key, environment, "
                                                     "period, limit_usd, action, threshold_pct, "
                                                     "owner, signed_off_by, shadow, "
                                                     "stale_policy, note)"));
    }
  }
  Cap cap;
  absl::StatusOr<std::string> s = StringField(obj, "id", where, true);
  if (!s.ok()) return s.status();
  cap.set_id(*s);

  if (s = StringField(obj, "scope", where, true); !s.ok()) return s.status();
  absl::StatusOr<stepledger::v1::Scope> scope = ParseScopeName(*s);
  if (!scope.ok()) return Prefixed(scope.status(), where + ".scope");
  cap.set_scope(*scope);

  if (s = StringField(obj, "key", where, *scope != stepledger::v1::SCOPE_ORG); !s.ok()) {
    return s.status();
  }
  cap.set_key(*s);

  if (s = StringField(obj, "environment", where, false); !s.ok()) return s.status();
  if (!s->empty()) {
    absl::StatusOr<stepledger::v1::Environment> env = ParseEnvironmentName(*s);
    if (!env.ok()) return Prefixed(env.status(), where + ".environment");
    cap.set_environment(*env);
  }

  if (s = StringField(obj, "period", where, true); !s.ok()) return s.status();
  absl::StatusOr<stepledger::v1::Period> period = ParsePeriodName(*s);
  if (!period.ok()) return Prefixed(period.status(), where + ".period");
  cap.set_period(*period);

  if (s = DecimalField(obj, "limit_usd", where, true); !s.ok()) return s.status();
  absl::StatusOr<int64_t> limit = ParseDollars(*s);
  if (!limit.ok()) return Prefixed(limit.status(), where + ".limit_usd");
  cap.set_limit_nano_usd(*limit);

  if (s = StringField(obj, "action", where, false); !s.ok()) return s.status();
  if (!s->empty()) {
    absl::StatusOr<stepledger::v1::CapAction> action = ParseActionName(*s);
    if (!action.ok()) return Prefixed(action.status(), where + ".action");
    cap.set_action(*action);
  }

  if (s = StringField(obj, "stale_policy", where, false); !s.ok()) return s.status();
  if (!s->empty()) {
    absl::StatusOr<stepledger::v1::StalePolicy> policy = ParseStalePolicyName(*s);
    if (!policy.ok()) return Prefixed(policy.status(), where + ".stale_policy");
    cap.set_stale_policy(*policy);
  }

  if (s = DecimalField(obj, "threshold_pct", where, false); !s.ok()) return s.status();
  if (!s->empty()) {
    absl::StatusOr<int32_t> bps = ParseThresholdPct(*s);
    if (!bps.ok()) return Prefixed(bps.status(), where + ".threshold_pct");
    cap.set_alert_threshold_bps(*bps);
  }

  if (s = StringField(obj, "owner", where, true); !s.ok()) return s.status();
  cap.set_owner(*s);
  if (s = StringField(obj, "signed_off_by", where, false); !s.ok()) return s.status();
  cap.set_signed_off_by(*s);
  if (auto it = obj.find("shadow"); it != obj.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".shadow: must be true or false"));
    }
    cap.set_shadow(it->get<bool>());
  }
  if (auto it = obj.find("note"); it != obj.end() && !it->is_null() && !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".note: must be a string"));
  }
  return cap;
}

}  // namespace

absl::StatusOr<int32_t> ParseThresholdPct(std::string_view text) {
  std::string_view t = Strip(text);
  if (!t.empty() && t.back() == '%') t.remove_suffix(1);
  const size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : t.substr(dot + 1);
  int32_t pct = 0;
  auto error = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a percentage of the limit in (0, 100] with at most 2 decimals, got \"",
        std::string(text), "\""));
  };
  if (!AllDigits(whole) || whole.size() > 3 || !ToInt(whole, &pct)) return error();
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2 || !AllDigits(frac))) {
    return error();
  }
  std::string hundredths(frac);
  hundredths.append(2 - hundredths.size(), '0');
  int32_t h = 0;
  if (!ToInt(hundredths, &h)) return error();
  const int32_t bps = pct * 100 + h;
  if (bps < 1 || bps > kBasisPointsPerWhole) return error();
  return bps;
}

std::string FormatThresholdPct(int32_t bps) {
  if (bps % 100 == 0) return absl::StrCat(bps / 100);
  if (bps % 10 == 0) return absl::StrCat(bps / 100, ".", (bps % 100) / 10);
  return absl::StrCat(bps / 100, ".", bps % 100 < 10 ? "0" : "", bps % 100);
}

absl::StatusOr<absl::Duration> ParseExpiresIn(std::string_view text) {
  std::string_view t = Strip(text);
  absl::Duration total = absl::ZeroDuration();
  bool any = false;
  // Split off whole days ("7d", "1d12h"), which absl::ParseDuration does not know.
  if (const size_t d = t.find('d'); d != std::string_view::npos) {
    int64_t days = 0;
    if (d == 0 || !AllDigits(t.substr(0, d)) || !ToInt(t.substr(0, d), &days) || days > 3650) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a duration like 24h, 90m or 7d, got \"", std::string(text), "\""));
    }
    total += absl::Hours(24 * days);
    t.remove_prefix(d + 1);
    any = true;
  }
  if (!t.empty()) {
    absl::Duration rest;
    if (!absl::ParseDuration(std::string(t), &rest) || t == "0" || t == "inf") {
      return absl::InvalidArgumentError(
          absl::StrCat("expected a duration like 24h, 90m or 7d, got \"", std::string(text), "\""));
    }
    total += rest;
    any = true;
  }
  if (!any || total <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a positive duration like 24h, got \"", std::string(text), "\""));
  }
  return total;
}

absl::StatusOr<stepledger::v1::Scope> ParseScopeName(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "feature") return stepledger::v1::SCOPE_FEATURE;
  if (t == "team") return stepledger::v1::SCOPE_TEAM;
  if (t == "tenant") return stepledger::v1::SCOPE_TENANT;
  if (t == "org") return stepledger::v1::SCOPE_ORG;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", std::string(text), "\" is not feature, team, tenant or org"));
}

absl::StatusOr<stepledger::v1::Period> ParsePeriodName(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "daily") return stepledger::v1::PERIOD_DAILY;
  if (t == "monthly") return stepledger::v1::PERIOD_MONTHLY;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", std::string(text), "\" is not daily or monthly"));
}

absl::StatusOr<stepledger::v1::CapAction> ParseActionName(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "alert") return stepledger::v1::CAP_ACTION_ALERT;
  if (t == "require_ack" || t == "require-ack") return stepledger::v1::CAP_ACTION_REQUIRE_ACK;
  if (t == "default") return stepledger::v1::CAP_ACTION_UNSPECIFIED;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", std::string(text), "\" is not alert or require_ack"));
}

absl::StatusOr<stepledger::v1::StalePolicy> ParseStalePolicyName(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "answer") return stepledger::v1::STALE_POLICY_ANSWER;
  if (t == "alert") return stepledger::v1::STALE_POLICY_ALERT;
  if (t == "require_ack" || t == "require-ack") return stepledger::v1::STALE_POLICY_REQUIRE_ACK;
  if (t == "default") return stepledger::v1::STALE_POLICY_UNSPECIFIED;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", std::string(text), "\" is not answer, alert or require_ack"));
}

absl::StatusOr<stepledger::v1::Environment> ParseEnvironmentName(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "production") return stepledger::v1::ENVIRONMENT_PRODUCTION;
  if (t == "staging") return stepledger::v1::ENVIRONMENT_STAGING;
  if (t == "eval") return stepledger::v1::ENVIRONMENT_EVAL;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", std::string(text), "\" is not production, staging or eval"));
}

absl::StatusOr<stepledger::v1::WorkloadClass> ParseWorkloadClassName(std::string_view text) {
  const std::string t = Lower(text);
  if (t == "interactive") return stepledger::v1::WORKLOAD_CLASS_INTERACTIVE;
  if (t == "batch") return stepledger::v1::WORKLOAD_CLASS_BATCH;
  if (t == "eval") return stepledger::v1::WORKLOAD_CLASS_EVAL;
  if (t == "background") return stepledger::v1::WORKLOAD_CLASS_BACKGROUND;
  return absl::InvalidArgumentError(
      absl::StrCat("\"", std::string(text), "\" is not interactive, batch, eval or background"));
}

std::string ScopeName(stepledger::v1::Scope v) {
  if (v == stepledger::v1::SCOPE_UNSPECIFIED) return "";
  return EnumName(stepledger::v1::Scope_Name(v), "SCOPE_");
}
std::string PeriodName(stepledger::v1::Period v) {
  if (v == stepledger::v1::PERIOD_UNSPECIFIED) return "";
  return EnumName(stepledger::v1::Period_Name(v), "PERIOD_");
}
std::string ActionName(stepledger::v1::CapAction v) {
  if (v == stepledger::v1::CAP_ACTION_UNSPECIFIED) return "default";
  return EnumName(stepledger::v1::CapAction_Name(v), "CAP_ACTION_");
}
std::string StalePolicyName(stepledger::v1::StalePolicy v) {
  if (v == stepledger::v1::STALE_POLICY_UNSPECIFIED) return "default";
  return EnumName(stepledger::v1::StalePolicy_Name(v), "STALE_POLICY_");
}
std::string CapEnvironmentName(stepledger::v1::Environment v) {
  if (v == stepledger::v1::ENVIRONMENT_UNSPECIFIED) return "production";
  return EnumName(stepledger::v1::Environment_Name(v), "ENVIRONMENT_");
}
std::string DecisionName(stepledger::v1::Decision v) {
  std::string name = stepledger::v1::Decision_Name(v);
  if (name.rfind("DECISION_", 0) == 0) name.erase(0, 9);
  return name;
}

absl::StatusOr<std::vector<Cap>> ParseBudgetFile(std::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InvalidArgumentError("not valid JSON (expected {\"caps\": [...]})");
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("expected a JSON object {\"caps\": [...]}");
  }
  for (const auto& [name, value] : doc.items()) {
    if (name != "caps") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown top-level field \"", name, "\" (expected only \"caps\")"));
    }
  }
  auto caps_it = doc.find("caps");
  if (caps_it == doc.end() || !caps_it->is_array()) {
    return absl::InvalidArgumentError("caps: required, an array of caps");
  }
  std::vector<Cap> caps;
  std::set<std::string> ids;
  for (size_t i = 0; i < caps_it->size(); ++i) {
    const std::string where = absl::StrCat("caps[", i, "]");
    absl::StatusOr<Cap> cap = CapFromJson((*caps_it)[i], where);
    if (!cap.ok()) return cap.status();
    if (!ids.insert(cap->id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".id: \"", cap->id(), "\" appears more than once"));
    }
    caps.push_back(*std::move(cap));
  }
  return caps;
}

std::string FormatBudgetFile(const std::vector<Cap>& caps_in) {
  std::vector<Cap> caps = caps_in;
  std::sort(caps.begin(), caps.end(), [](const Cap& a, const Cap& b) { return a.id() < b.id(); });
  // ordered_json keeps the fields in the order a reader expects.
  nlohmann::ordered_json doc;
  doc["caps"] = nlohmann::ordered_json::array();
  for (const Cap& c : caps) {
    nlohmann::ordered_json o;
    o["id"] = c.id();
    o["scope"] = ScopeName(c.scope());
    o["key"] = c.key();
    o["environment"] = CapEnvironmentName(c.environment());
    o["period"] = PeriodName(c.period());
    o["limit_usd"] = FormatNanoUsd(c.limit_nano_usd());
    o["action"] = ActionName(c.action());
    // A JSON number: whole percents as integers, others (at most 2 decimals) as the shortest
    // double, which ParseBudgetFile reads back exactly.
    const int32_t bps = c.alert_threshold_bps();
    if (bps % 100 == 0) {
      o["threshold_pct"] = bps / 100;
    } else {
      o["threshold_pct"] = bps / 100.0;
    }
    o["owner"] = c.owner();
    o["signed_off_by"] = c.signed_off_by();
    o["shadow"] = c.shadow();
    o["stale_policy"] = StalePolicyName(c.stale_policy());
    doc["caps"].push_back(std::move(o));
  }
  return doc.dump(2) + "\n";
}

}  // namespace stepledger::client
