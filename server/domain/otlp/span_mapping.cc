#include "server/domain/otlp/span_mapping.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace stepledger::domain::otlp {
namespace {

// Attribute names: OpenTelemetry GenAI semantic conventions, then the older names still emitted
// by instrumentations, then stepledger's own.
constexpr absl::string_view kOperation = "gen_ai.operation.name";
constexpr absl::string_view kProvider = "gen_ai.provider.name";
constexpr absl::string_view kSystemOld = "gen_ai.system";
constexpr absl::string_view kResponseModel = "gen_ai.response.model";
constexpr absl::string_view kRequestModel = "gen_ai.request.model";
constexpr absl::string_view kToolName = "gen_ai.tool.name";
constexpr absl::string_view kCostUsd = "stepledger.cost_usd";
constexpr absl::string_view kRunId = "stepledger.parent_run_id";
constexpr absl::string_view kToolOwner = "stepledger.tool_owner_team";

struct CountNames {
  absl::string_view current;
  absl::string_view older;
};
constexpr CountNames kInput{"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"};
constexpr CountNames kOutput{"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"};
constexpr CountNames kCacheRead{"gen_ai.usage.cache_read.input_tokens",
                                "gen_ai.usage.cache_read_input_tokens"};
constexpr CountNames kCacheWrite{"gen_ai.usage.cache_creation.input_tokens",
                                 "gen_ai.usage.cache_creation_input_tokens"};
constexpr CountNames kReasoning{"gen_ai.usage.reasoning.output_tokens",
                                "gen_ai.usage.reasoning_tokens"};

const AttributeValue* Find(const Attributes& attributes, absl::string_view key) {
  auto it = attributes.find(key);
  if (it == attributes.end() || std::holds_alternative<std::monostate>(it->second)) return nullptr;
  return &it->second;
}

std::string DoubleText(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

// A scalar attribute as text (tags are strings, but a tenant may be sent as a number).
std::optional<std::string> Text(const AttributeValue* value) {
  if (value == nullptr) return std::nullopt;
  if (auto* s = std::get_if<std::string>(value)) return *s;
  if (auto* i = std::get_if<int64_t>(value)) return absl::StrCat(*i);
  if (auto* b = std::get_if<bool>(value)) return *b ? "true" : "false";
  if (auto* d = std::get_if<double>(value)) return DoubleText(*d);
  return std::nullopt;
}

std::string TextOr(const Attributes& attributes, absl::string_view key) {
  return Text(Find(attributes, key)).value_or("");
}

// Span attribute first, then the resource's.
const AttributeValue* Lookup(const Attributes& span, const Attributes& resource,
                             absl::string_view key) {
  const AttributeValue* v = Find(span, key);
  return v != nullptr ? v : Find(resource, key);
}

// A token count: an integer, or a double holding an integer (some SDKs send numbers as
// doubles). Absent stays absent; anything else is an error naming the attribute.
std::optional<int64_t> Count(const Attributes& attributes, const CountNames& names,
                             std::optional<ingest::FieldError>* error) {
  absl::string_view key = names.current;
  const AttributeValue* v = Find(attributes, key);
  if (v == nullptr) {
    key = names.older;
    v = Find(attributes, key);
  }
  if (v == nullptr) return std::nullopt;
  std::optional<int64_t> n;
  if (auto* i = std::get_if<int64_t>(v)) {
    n = *i;
  } else if (auto* d = std::get_if<double>(v);
             d != nullptr && std::isfinite(*d) && std::trunc(*d) == *d && std::abs(*d) < 9e15) {
    n = static_cast<int64_t>(*d);
  }
  if (!n.has_value() || *n < 0) {
    if (!error->has_value()) {
      *error = ingest::FieldError{absl::StrCat("attributes.", key),
                                  "token count must be a non-negative integer"};
    }
    return std::nullopt;
  }
  return n;
}

bool IsHex(absl::string_view id, size_t digits) {
  if (id.size() != digits) return false;
  bool nonzero = false;
  for (char c : id) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

// The environment's attribute, most specific first: stepledger's own name wins over the
// general OpenTelemetry one at the same level, and the span's over the resource's.
const AttributeValue* EnvironmentValue(const Attributes& span, const Attributes& resource) {
  for (const Attributes* level : {&span, &resource}) {
    for (absl::string_view key :
         {"stepledger.environment", "deployment.environment.name", "deployment.environment"}) {
      if (const AttributeValue* v = Find(*level, key)) return v;
    }
  }
  return nullptr;
}

void SetError(std::optional<ingest::FieldError>& error, std::string field, std::string reason) {
  if (!error.has_value()) error = ingest::FieldError{std::move(field), std::move(reason)};
}

Tags TagsOf(const Span& span, const Attributes& resource,
            std::optional<ingest::FieldError>& error) {
  Tags tags;
  const Attributes& a = span.attributes;
  tags.feature = Text(Lookup(a, resource, "stepledger.feature")).value_or("");
  tags.team = Text(Lookup(a, resource, "stepledger.team")).value_or("");
  tags.tenant = Text(Lookup(a, resource, "stepledger.tenant")).value_or("");
  if (auto wc = Text(Lookup(a, resource, "stepledger.workload_class")); wc && !wc->empty()) {
    if (auto parsed = WorkloadClassFromString(*wc)) {
      tags.workload_class = *parsed;
    } else {
      SetError(error, "tags.workload_class",
               absl::StrCat("unknown workload class '", wc->substr(0, 64),
                            "' (interactive, batch, eval, background)"));
    }
  }
  if (auto env = Text(EnvironmentValue(a, resource)); env && !env->empty()) {
    if (auto parsed = EnvironmentFromString(*env)) {
      tags.environment = *parsed;
    } else {
      SetError(error, "tags.environment",
               absl::StrCat("unknown environment '", env->substr(0, 64),
                            "' (production, staging, eval)"));
    }
  }
  tags.parent_run_id = Text(Lookup(a, resource, kRunId)).value_or(span.trace_id);
  return tags;
}

bool IsStructureOperation(absl::string_view op) {
  return op == "invoke_agent" || op == "create_agent" || op == "invoke_workflow";
}

bool HasGenAi(const Attributes& attributes) {
  auto it = attributes.lower_bound(absl::string_view("gen_ai."));
  return it != attributes.end() && absl::StartsWith(it->first, "gen_ai.");
}

bool HasUsageOrModel(const Attributes& a) {
  for (absl::string_view key : {kInput.current, kInput.older, kOutput.current, kOutput.older,
                                kResponseModel, kRequestModel}) {
    if (Find(a, key) != nullptr) return true;
  }
  return false;
}

absl::string_view StatusText(SpanStatus status) {
  switch (status) {
    case SpanStatus::kOk:
      return "ok";
    case SpanStatus::kError:
      return "error";
    case SpanStatus::kUnset:
      break;
  }
  return "";
}

}  // namespace

SpanRole RoleOf(const Span& span) {
  const std::string op = TextOr(span.attributes, kOperation);
  if (IsStructureOperation(op)) {
    return op == "invoke_agent" && span.kind == SpanKind::kClient ? SpanRole::kStep
                                                                  : SpanRole::kStructure;
  }
  if (!op.empty()) return SpanRole::kStep;
  if (!HasGenAi(span.attributes)) return SpanRole::kIgnored;
  return HasUsageOrModel(span.attributes) ? SpanRole::kStep : SpanRole::kStructure;
}

StepKind KindOf(const Span& span) {
  const std::string op = TextOr(span.attributes, kOperation);
  if (op == "chat" || op == "text_completion" || op == "generate_content") {
    return StepKind::kModelCall;
  }
  if (op == "embeddings") return StepKind::kEmbedding;
  if (op == "retrieval") return StepKind::kRetrieval;
  if (op == "execute_tool") return StepKind::kToolCall;
  if (op.empty() && HasUsageOrModel(span.attributes)) return StepKind::kModelCall;
  return StepKind::kOther;
}

Usage UsageOf(const Attributes& a, std::optional<ingest::FieldError>* error) {
  const std::optional<int64_t> input = Count(a, kInput, error);
  const std::optional<int64_t> output = Count(a, kOutput, error);
  const std::optional<int64_t> cache_read = Count(a, kCacheRead, error);
  const std::optional<int64_t> cache_write = Count(a, kCacheWrite, error);
  const std::optional<int64_t> reasoning = Count(a, kReasoning, error);
  Usage usage;
  usage.cache_read_tokens = cache_read;
  usage.cache_write_tokens = cache_write;
  usage.reasoning_tokens = reasoning;
  if (input.has_value()) {
    // Counts are at most ~9e15 each (Count), so the sum cannot overflow.
    const int64_t cached = cache_read.value_or(0) + cache_write.value_or(0);
    usage.input_uncached_tokens = *input >= cached ? *input - cached : *input;
  }
  if (output.has_value()) {
    const int64_t r = reasoning.value_or(0);
    usage.output_tokens = *output >= r ? *output - r : *output;
  }
  return usage;
}

absl::StatusOr<NanoUsd> ParseUsd(absl::string_view text) {
  const auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text.substr(0, 40), "' is not a dollar amount: ", why));
  };
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (!s.empty() && s.front() == '-') return invalid("negative");
  // Significant digits (at most 36, so they fit in 128 bits) and the power of ten they scale.
  unsigned __int128 digits = 0;
  int significant = 0;
  int64_t scale = 0;  // value = digits * 10^scale
  bool any_digit = false;
  bool in_fraction = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.' && !in_fraction) {
      in_fraction = true;
      continue;
    }
    if (!absl::ascii_isdigit(c)) break;
    any_digit = true;
    if (digits == 0 && c == '0') {
      if (in_fraction) --scale;
      continue;
    }
    if (++significant > 36) return invalid("too many digits");
    digits = digits * 10 + static_cast<unsigned>(c - '0');
    if (in_fraction) --scale;
  }
  if (!any_digit) return invalid("no digits");
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    int64_t exponent = 0;
    absl::string_view rest = s.substr(i + 1);
    if (!rest.empty() && rest.front() == '+') rest.remove_prefix(1);
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), exponent);
    if (rest.empty() || ec != std::errc() || end != rest.data() + rest.size() || exponent > 1000 ||
        exponent < -1000) {
      return invalid("bad exponent");
    }
    scale += exponent;
    i = s.size();
  }
  if (i != s.size()) return invalid("unexpected character");
  scale += 9;  // to nano-USD
  constexpr unsigned __int128 kMax = std::numeric_limits<NanoUsd>::max();
  if (digits == 0) return 0;
  while (scale > 0) {
    if (digits > kMax) return invalid("too large");
    digits *= 10;
    --scale;
  }
  while (scale < 0) {
    if (scale == -1) {
      digits = (digits + 5) / 10;  // the last division rounds half away from zero
    } else {
      digits /= 10;
      if (digits == 0) return 0;  // well below half a nano-USD
    }
    ++scale;
  }
  if (digits > kMax) return invalid("too large");
  return static_cast<NanoUsd>(digits);
}

Mapping MapSpans(const std::vector<ResourceSpans>& request) {
  Mapping mapping;
  // Every span of the request by (trace, span), to re-parent across spans that are not stored.
  struct Known {
    const Span* span;
    SpanRole role;
  };
  absl::flat_hash_map<std::string, Known> known;
  for (const ResourceSpans& rs : request) {
    for (const Span& span : rs.spans) {
      known.emplace(absl::StrCat(span.trace_id, "/", span.span_id), Known{&span, RoleOf(span)});
    }
  }
  for (size_t r = 0; r < request.size(); ++r) {
    const Attributes& resource = request[r].resource_attributes;
    for (size_t i = 0; i < request[r].spans.size(); ++i) {
      const Span& span = request[r].spans[i];
      const SpanRole role = RoleOf(span);
      if (role == SpanRole::kIgnored) {
        ++mapping.ignored;
        continue;
      }
      MappedSpan out;
      out.resource_index = r;
      out.span_index = i;
      std::optional<ingest::FieldError>& error = out.conversion_error;
      Step& step = out.step;
      if (!IsHex(span.trace_id, 32)) SetError(error, "trace_id", "must be 16 bytes, not all zero");
      if (!IsHex(span.span_id, 16)) SetError(error, "span_id", "must be 8 bytes, not all zero");
      if (!span.parent_span_id.empty() && !IsHex(span.parent_span_id, 16)) {
        SetError(error, "parent_span_id", "must be empty or 8 bytes, not all zero");
      }
      step.event_id = absl::StrCat("otlp-", span.trace_id, "-", span.span_id);
      step.step_id = span.span_id;
      // Nearest stored ancestor within the request; a parent not in the request is kept as
      // sent (it may be a stored span of an earlier or later export).
      std::string parent = span.parent_span_id;
      for (int hops = 0; !parent.empty() && hops < 1000; ++hops) {
        auto it = known.find(absl::StrCat(span.trace_id, "/", parent));
        if (it == known.end() || it->second.role != SpanRole::kIgnored) break;
        parent = it->second.span->parent_span_id;
      }
      step.parent_step_id = parent;
      step.tags = TagsOf(span, resource, error);
      step.kind = role == SpanRole::kStep ? KindOf(span) : StepKind::kOther;
      step.name = span.name;
      const Attributes& a = span.attributes;
      step.provider = TextOr(a, kProvider);
      if (step.provider.empty()) step.provider = TextOr(a, kSystemOld);
      step.model = TextOr(a, kResponseModel);
      if (step.model.empty()) step.model = TextOr(a, kRequestModel);
      step.tool_name = TextOr(a, kToolName);
      if (step.kind == StepKind::kToolCall) {
        step.tool_owner_team = Text(Lookup(a, resource, kToolOwner)).value_or("");
      }
      step.status = std::string(StatusText(span.status));
      step.started_at = span.start;
      step.ended_at = span.end;
      if (auto op = TextOr(a, kOperation); !op.empty()) {
        step.attributes.emplace(kOperation, op.substr(0, 64));
      }
      if (role == SpanRole::kStructure) {
        // A tree node only: whatever usage it reports is its children's.
        step.attributes.emplace("stepledger.otlp.role", "structure");
        step.cost_nano_usd = 0;
      } else {
        step.usage = UsageOf(a, &error);
        if (const AttributeValue* cost = Find(a, kCostUsd)) {
          std::optional<std::string> text;
          if (auto* d = std::get_if<double>(cost)) {
            text = DoubleText(*d);
          } else if (!std::holds_alternative<bool>(*cost)) {
            text = Text(cost);
          }
          absl::StatusOr<NanoUsd> nano =
              text.has_value() ? ParseUsd(*text) : absl::InvalidArgumentError("not a number");
          if (nano.ok()) {
            step.cost_nano_usd = *nano;
          } else {
            SetError(error, absl::StrCat("attributes.", kCostUsd),
                     std::string(nano.status().message()));
          }
        }
      }
      mapping.steps.push_back(std::move(out));
    }
  }
  return mapping;
}

}  // namespace stepledger::domain::otlp
