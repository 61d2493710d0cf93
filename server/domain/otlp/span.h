// An OpenTelemetry span as the mapping sees it: the fields of OTLP's Span that decide a step,
// with ids already rendered as lower-case hex (as OTLP/JSON and every trace UI show them) and
// attribute values reduced to the scalar kinds the GenAI conventions use.
//
// Transport fills these from OTLP/gRPC or OTLP/HTTP; domain code never sees the wire.
//
// Thread safety: plain values; copy freely.
#ifndef STEPLEDGER_SERVER_DOMAIN_OTLP_SPAN_H_
#define STEPLEDGER_SERVER_DOMAIN_OTLP_SPAN_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"

namespace stepledger::domain::otlp {

// std::monostate: an empty AnyValue, or an array/map/bytes value (not used by the mapping).
using AttributeValue = std::variant<std::monostate, std::string, bool, int64_t, double>;
using Attributes = std::map<std::string, AttributeValue, std::less<>>;

enum class SpanKind { kUnspecified, kInternal, kServer, kClient, kProducer, kConsumer };
enum class SpanStatus { kUnset, kOk, kError };

struct Span {
  // Hex of the bytes received. A valid trace id has 16 bytes (32 hex digits), a valid span id
  // 8 bytes (16 digits), not all zero; parent_span_id is empty for a root span. Validity is
  // checked by the mapping, so a malformed span is reported, not silently skipped.
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  SpanKind kind = SpanKind::kUnspecified;
  std::optional<absl::Time> start;  // unset when the sender sent 0
  std::optional<absl::Time> end;
  SpanStatus status = SpanStatus::kUnset;
  Attributes attributes;
};

// The spans of one OTLP Resource (all its scopes together) and the resource's attributes,
// which apply to each of them where the span does not say otherwise.
struct ResourceSpans {
  Attributes resource_attributes;
  std::vector<Span> spans;
};

}  // namespace stepledger::domain::otlp

#endif  // STEPLEDGER_SERVER_DOMAIN_OTLP_SPAN_H_
