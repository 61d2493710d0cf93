#include "server/storage/step_json.h"

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "server/storage/pg_time.h"

namespace stepledger::storage {
namespace {

bool IsAscii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return false;
  }
  return true;
}

// A JSON string literal of ASCII text: quotes, backslashes and control characters escaped.
void AppendAsciiJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes not yet appended; they need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c != '"' && c != '\\' && c >= 0x20) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

}  // namespace

std::string AttributesToJson(const std::map<std::string, std::string>& attributes) {
  // Every stored step goes through here, so plain ASCII (the usual case) is written directly;
  // anything else takes nlohmann's UTF-8 aware path.
  bool ascii = true;
  size_t unescaped_size = 2;  // the braces
  for (const auto& [k, v] : attributes) {
    ascii = ascii && IsAscii(k) && IsAscii(v);
    unescaped_size += k.size() + v.size() + 6;  // two pairs of quotes, ':' and ','
  }
  if (ascii) {
    std::string out;
    out.reserve(unescaped_size);  // one allocation unless something needs escaping
    out += '{';
    for (const auto& [k, v] : attributes) {
      if (out.size() > 1) out += ',';
      AppendAsciiJsonString(out, k);
      out += ':';
      AppendAsciiJsonString(out, v);
    }
    out += '}';
    return out;
  }
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : attributes) j[k] = v;
  // Replace, not throw, on invalid UTF-8: proto3 strings are UTF-8 already; this is a backstop.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string StepToJson(const domain::Step& s) {
  nlohmann::json j;
  j["eventId"] = s.event_id;
  j["tags"] = {{"feature", s.tags.feature},
               {"team", s.tags.team},
               {"workloadClass", std::string(domain::ToString(s.tags.workload_class))},
               {"tenant", s.tags.tenant},
               {"environment", std::string(domain::ToString(s.tags.environment))},
               {"parentRunId", s.tags.parent_run_id}};
  j["stepId"] = s.step_id;
  j["parentStepId"] = s.parent_step_id;
  j["kind"] = std::string(domain::ToString(s.kind));
  j["name"] = s.name;
  j["provider"] = s.provider;
  j["model"] = s.model;
  nlohmann::json usage = nlohmann::json::object();
  auto put = [&usage](const char* key, const std::optional<int64_t>& v) {
    if (v.has_value()) usage[key] = *v;
  };
  put("inputUncachedTokens", s.usage.input_uncached_tokens);
  put("cacheReadTokens", s.usage.cache_read_tokens);
  put("cacheWriteTokens", s.usage.cache_write_tokens);
  put("outputTokens", s.usage.output_tokens);
  put("reasoningTokens", s.usage.reasoning_tokens);
  j["usage"] = usage;
  if (s.cost_nano_usd.has_value()) j["costNanoUsd"] = *s.cost_nano_usd;
  j["toolName"] = s.tool_name;
  j["toolOwnerTeam"] = s.tool_owner_team;
  j["status"] = s.status;
  j["operationId"] = s.operation_id;
  j["attempt"] = s.attempt;
  if (s.started_at.has_value()) j["startedAt"] = Rfc3339Utc(*s.started_at);
  if (s.ended_at.has_value()) j["endedAt"] = Rfc3339Utc(*s.ended_at);
  j["attributes"] = nlohmann::json::parse(AttributesToJson(s.attributes));
  if (!s.service_tier.empty()) j["serviceTier"] = s.service_tier;
  if (s.tool_units.has_value()) j["toolUnits"] = *s.tool_units;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace stepledger::storage
