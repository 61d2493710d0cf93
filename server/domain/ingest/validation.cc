#include "server/domain/ingest/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/domain/ingest/text.h"

namespace stepledger::domain::ingest {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsPrintableAscii(char c) { return c >= 0x20 && c <= 0x7e; }

// Free text (names, models, attribute values): bounded, and storable as PostgreSQL text.
// An attribute value's field is "attributes.<key>": that name is only built for an error (every
// event's attributes pass here).
std::optional<FieldError> CheckText(std::string_view field, const std::string& value, size_t max,
                                    std::string_view attribute_key = {}) {
  const auto field_name = [&] {
    std::string name(field);
    if (!attribute_key.empty()) name.append(".").append(attribute_key);
    return name;
  };
  if (value.size() > max) {
    return FieldError{field_name(),
                      absl::StrCat("too long: ", value.size(), " bytes, at most ", max)};
  }
  if (!IsStorableText(value)) {
    return FieldError{field_name(), absl::StrCat("malformed: not UTF-8 text or contains NUL: \"",
                                                 EscapeUnstorable(value.substr(0, 80)), "\"")};
  }
  return std::nullopt;
}

// An excerpt of a rejected value for a reason a person reads: short, and always storable.
std::string Excerpt(std::string_view value) { return EscapeUnstorable(value.substr(0, 80)); }

// A required tag in production; outside production a missing one is defaulted.
// Returns an error for a malformed value or a missing one in production.
std::optional<FieldError> CheckTextTag(std::string_view field, std::string& value, bool production,
                                       bool (*valid)(std::string_view), std::string_view form,
                                       bool& defaulted) {
  if (value.empty()) {
    if (production) {
      return FieldError{std::string(field), absl::StrCat("missing: required in production (form ",
                                                         std::string(form), ")")};
    }
    value = std::string(kUnattributed);
    defaulted = true;
    return std::nullopt;
  }
  if (!valid(value)) {
    return FieldError{std::string(field), absl::StrCat("malformed: \"", Excerpt(value),
                                                       "\" must match ", std::string(form))};
  }
  return std::nullopt;
}

std::optional<FieldError> CheckOptionalId(std::string_view field, const std::string& value,
                                          size_t max) {
  if (value.empty()) return std::nullopt;
  if (!IsPrintableId(value, max)) {
    return FieldError{std::string(field),
                      absl::StrCat("malformed: must be 1..", max, " printable ASCII characters")};
  }
  return std::nullopt;
}

std::optional<FieldError> CheckTokens(std::string_view field, const std::optional<int64_t>& v,
                                      const ValidationLimits& limits) {
  if (!v.has_value()) return std::nullopt;
  if (*v < 0) return FieldError{std::string(field), "negative token count"};
  if (*v > limits.max_tokens_per_bucket) {
    return FieldError{std::string(field), absl::StrCat("implausible token count ", *v, " (limit ",
                                                       limits.max_tokens_per_bucket, ")")};
  }
  return std::nullopt;
}

std::optional<FieldError> CheckTime(std::string_view field, const std::optional<absl::Time>& t,
                                    absl::Time now, const ValidationLimits& limits) {
  if (!t.has_value()) return std::nullopt;
  if (*t > now + limits.max_future_skew) {
    return FieldError{std::string(field),
                      absl::StrCat("in the future: ", absl::FormatTime(*t, absl::UTCTimeZone()),
                                   " is more than ", absl::FormatDuration(limits.max_future_skew),
                                   " ahead of the collector's clock")};
  }
  if (*t < now - limits.max_age) {
    return FieldError{std::string(field),
                      absl::StrCat("too old: ", absl::FormatTime(*t, absl::UTCTimeZone()),
                                   " is older than ", absl::FormatDuration(limits.max_age))};
  }
  return std::nullopt;
}

std::optional<FieldError> CheckStep(Step& step, absl::Time now, const ValidationLimits& limits,
                                    Verdict& verdict) {
  if (step.event_id.empty()) {
    return FieldError{"event_id", "missing: every event needs a client-generated idempotency key"};
  }
  if (auto e = CheckOptionalId("event_id", step.event_id, limits.max_id_length)) return e;

  Tags& tags = step.tags;
  if (tags.environment == Environment::kUnspecified) {
    return FieldError{"tags.environment",
                      "missing: must be production, staging or eval (mixing them is the most "
                      "common attribution bug)"};
  }
  const bool production = tags.environment == Environment::kProduction;

  // Inheritance (DESIGN.md): a production step that names its run and parent step may lack
  // feature/team/tenant/workload_class; the caller decides what to do with it.
  const bool names_parent = !tags.parent_run_id.empty() && !step.parent_step_id.empty();
  const bool lacks_inheritable = tags.feature.empty() || tags.team.empty() || tags.tenant.empty() ||
                                 tags.workload_class == WorkloadClass::kUnspecified;

  // A production child that names its run and parent may lack the inheritable tags: it is
  // validated as if they were present (everything else must still be right) and, if that
  // passes, stored as pending until its run's root supplies them.
  if (production && names_parent && lacks_inheritable && !verdict.checking_placeholders) {
    Step probe = step;
    if (probe.tags.feature.empty()) probe.tags.feature = "pending";
    if (probe.tags.team.empty()) probe.tags.team = "pending";
    if (probe.tags.tenant.empty()) probe.tags.tenant = "pending";
    if (probe.tags.workload_class == WorkloadClass::kUnspecified) {
      probe.tags.workload_class = WorkloadClass::kBackground;
    }
    Verdict probe_verdict;
    probe_verdict.checking_placeholders = true;
    if (auto e = CheckStep(probe, now, limits, probe_verdict)) return e;
    step.attempt = probe.attempt;
    verdict.status = AttributionStatus::kPending;
    verdict.inheritable = true;
    return std::nullopt;
  }

  bool defaulted = false;
  if (auto e = CheckTextTag("tags.feature", tags.feature, production, IsSlug,
                            "[a-z0-9][a-z0-9._-]{0,63}", defaulted)) {
    verdict.inheritable = production && names_parent && lacks_inheritable;
    return e;
  }
  if (auto e = CheckTextTag("tags.team", tags.team, production, IsSlug, "[a-z0-9][a-z0-9._-]{0,63}",
                            defaulted)) {
    verdict.inheritable = production && names_parent && lacks_inheritable;
    return e;
  }
  if (tags.workload_class == WorkloadClass::kUnspecified) {
    if (production) {
      verdict.inheritable = names_parent;
      return FieldError{"tags.workload_class",
                        "missing: required in production (interactive, batch, eval, background)"};
    }
    defaulted = true;  // stored as "(unattributed)" by ToString of kUnspecified at storage
  }
  if (auto e = CheckTextTag("tags.tenant", tags.tenant, production, IsTenantId,
                            "[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", defaulted)) {
    verdict.inheritable = production && names_parent && lacks_inheritable;
    return e;
  }
  if (tags.parent_run_id.empty()) {
    if (production) {
      return FieldError{"tags.parent_run_id",
                        "missing: required in production (the user task that spawned the step)"};
    }
    tags.parent_run_id = std::string(kUnattributed);
    defaulted = true;
  } else if (!IsPrintableId(tags.parent_run_id, 128)) {
    return FieldError{"tags.parent_run_id", "malformed: must be 1..128 printable ASCII characters"};
  }
  if (defaulted) verdict.status = AttributionStatus::kDefaulted;

  if (step.step_id.empty()) {
    return FieldError{"step_id", "missing: every step needs an id within its run"};
  }
  if (auto e = CheckOptionalId("step_id", step.step_id, limits.max_id_length)) return e;
  if (auto e = CheckOptionalId("parent_step_id", step.parent_step_id, limits.max_id_length)) {
    return e;
  }
  if (step.parent_step_id == step.step_id) {
    return FieldError{"parent_step_id", "self-parenting: a step cannot be its own parent"};
  }
  if (auto e = CheckOptionalId("operation_id", step.operation_id, limits.max_id_length)) return e;
  if (auto e = CheckText("name", step.name, limits.max_name_length)) return e;
  if (auto e = CheckText("provider", step.provider, limits.max_provider_length)) return e;
  if (auto e = CheckText("model", step.model, limits.max_model_length)) return e;
  if (auto e = CheckText("tool_name", step.tool_name, limits.max_tool_name_length)) return e;
  if (auto e = CheckText("status", step.status, limits.max_status_length)) return e;
  if (auto e = CheckText("service_tier", step.service_tier, 16)) return e;
  if (step.tool_units.has_value() && *step.tool_units < 0) {
    return FieldError{"tool_units", "negative unit count"};
  }
  if (!step.tool_owner_team.empty() && !IsSlug(step.tool_owner_team)) {
    return FieldError{"tool_owner_team", "malformed: must match [a-z0-9][a-z0-9._-]{0,63}"};
  }

  if (step.attempt == 0) step.attempt = 1;  // proto3 default: "first try"
  if (step.attempt < 0 || step.attempt > limits.max_attempt) {
    return FieldError{
        "attempt", absl::StrCat("out of range: ", step.attempt, " (1..", limits.max_attempt, ")")};
  }

  if (auto e = CheckTokens("usage.input_uncached_tokens", step.usage.input_uncached_tokens, limits))
    return e;
  if (auto e = CheckTokens("usage.cache_read_tokens", step.usage.cache_read_tokens, limits))
    return e;
  if (auto e = CheckTokens("usage.cache_write_tokens", step.usage.cache_write_tokens, limits))
    return e;
  if (auto e = CheckTokens("usage.output_tokens", step.usage.output_tokens, limits)) return e;
  if (auto e = CheckTokens("usage.reasoning_tokens", step.usage.reasoning_tokens, limits)) return e;

  if (step.cost_nano_usd.has_value()) {
    if (*step.cost_nano_usd < 0) return FieldError{"cost_nano_usd", "negative cost"};
    if (*step.cost_nano_usd > limits.max_cost_nano_usd) {
      return FieldError{"cost_nano_usd", absl::StrCat("implausible cost ", *step.cost_nano_usd,
                                                      " nano-USD for one step (limit ",
                                                      limits.max_cost_nano_usd, ")")};
    }
  }

  if (auto e = CheckTime("started_at", step.started_at, now, limits)) return e;
  if (auto e = CheckTime("ended_at", step.ended_at, now, limits)) return e;
  if (step.started_at && step.ended_at && *step.ended_at < *step.started_at) {
    return FieldError{"ended_at", "before started_at"};
  }

  if (step.attributes.size() > limits.max_attributes) {
    return FieldError{"attributes", absl::StrCat("too many entries: ", step.attributes.size(),
                                                 ", at most ", limits.max_attributes)};
  }
  for (const auto& [key, value] : step.attributes) {
    if (key.empty() || key.size() > limits.max_attribute_key_length) {
      return FieldError{"attributes",
                        absl::StrCat("key must be 1..", limits.max_attribute_key_length,
                                     " bytes: \"", Excerpt(key), "\"")};
    }
    if (!IsStorableText(key)) {
      return FieldError{
          "attributes",
          absl::StrCat("malformed key: not UTF-8 text or contains NUL: \"", Excerpt(key), "\"")};
    }
    if (auto e = CheckText("attributes", value, limits.max_attribute_value_length, key)) {
      return e;
    }
  }

  return std::nullopt;
}

}  // namespace

bool IsSlug(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsLowerAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsTenantId(std::string_view s) {
  if (s.empty() || s.size() > 128 || !absl::ascii_isalnum(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

bool IsPrintableId(std::string_view s, size_t max_length) {
  if (s.empty() || s.size() > max_length) return false;
  for (char c : s) {
    if (!IsPrintableAscii(c)) return false;
  }
  return true;
}

Verdict ValidateStep(Step& step, absl::Time now, const ValidationLimits& limits) {
  Verdict verdict;
  verdict.error = CheckStep(step, now, limits, verdict);
  if (verdict.error.has_value()) verdict.status = AttributionStatus::kQuarantined;
  return verdict;
}

absl::Time OccurredAt(const Step& step, absl::Time received_at) {
  return step.started_at.value_or(received_at);
}

}  // namespace stepledger::domain::ingest
