// Properties the fuzz targets assert beyond "no crash, no leak, no UB". A broken property
// aborts with a message, which libFuzzer reports as a crash and saves the input.
//
// Both come from what PostgreSQL accepts: an accepted step is stored as text columns, which
// must be well-formed UTF-8 without NUL (domain/ingest/text.h); a rejected event's rendering is
// stored as jsonb, which must parse and may not hold U+0000 in any string (PostgreSQL refuses
// "\u0000" in jsonb). Either failure would fail the whole write group, not just one event.
#ifndef STEPLEDGER_TESTS_FUZZ_FUZZ_CHECKS_H_
#define STEPLEDGER_TESTS_FUZZ_FUZZ_CHECKS_H_

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "server/domain/ingest/text.h"
#include "server/domain/step.h"

namespace stepledger::fuzz {

[[noreturn]] inline void Fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "fuzz property broken: %.*s: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline void CheckStorableText(std::string_view field, std::string_view value) {
  if (!domain::ingest::IsStorableText(value)) {
    Fail("accepted step has text PostgreSQL refuses", field);
  }
}

// REQUIRES: `step` passed validation.
inline void CheckAcceptedStepIsStorable(const domain::Step& step) {
  CheckStorableText("event_id", step.event_id);
  CheckStorableText("step_id", step.step_id);
  CheckStorableText("parent_step_id", step.parent_step_id);
  CheckStorableText("name", step.name);
  CheckStorableText("provider", step.provider);
  CheckStorableText("model", step.model);
  CheckStorableText("tool_name", step.tool_name);
  CheckStorableText("tool_owner_team", step.tool_owner_team);
  CheckStorableText("status", step.status);
  CheckStorableText("operation_id", step.operation_id);
  CheckStorableText("service_tier", step.service_tier);
  CheckStorableText("tags.feature", step.tags.feature);
  CheckStorableText("tags.team", step.tags.team);
  CheckStorableText("tags.tenant", step.tags.tenant);
  CheckStorableText("tags.parent_run_id", step.tags.parent_run_id);
  for (const auto& [key, value] : step.attributes) {
    CheckStorableText("attributes (key)", key);
    CheckStorableText("attributes (value)", value);
  }
}

inline void CheckNoNul(const nlohmann::json& value) {
  if (value.is_string()) {
    if (value.get_ref<const std::string&>().find('\0') != std::string::npos) {
      Fail("quarantine JSON is not storable as jsonb", "a string holds U+0000");
    }
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (key.find('\0') != std::string::npos) {
        Fail("quarantine JSON is not storable as jsonb", "a key holds U+0000");
      }
      CheckNoNul(item);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) CheckNoNul(item);
  }
}

// `json` is a rejected event's rendering for the quarantine table's jsonb column.
inline void CheckJsonbStorable(const std::string& json) {
  if (!domain::ingest::IsStorableText(json)) {
    Fail("quarantine JSON is not storable as jsonb", "not UTF-8 text without NUL");
  }
  const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) Fail("quarantine JSON is not storable as jsonb", json.substr(0, 200));
  CheckNoNul(parsed);
}

}  // namespace stepledger::fuzz

#endif  // STEPLEDGER_TESTS_FUZZ_FUZZ_CHECKS_H_
