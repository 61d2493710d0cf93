#include "server/transport/otlp_convert.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/domain/ingest/text.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {
namespace {

namespace common = opentelemetry::proto::common::v1;
namespace trace = opentelemetry::proto::trace::v1;

domain::otlp::AttributeValue FromProto(const common::AnyValue& v) {
  switch (v.value_case()) {
    case common::AnyValue::kStringValue:
      return v.string_value();
    case common::AnyValue::kBoolValue:
      return v.bool_value();
    case common::AnyValue::kIntValue:
      return v.int_value();
    case common::AnyValue::kDoubleValue:
      return v.double_value();
    default:
      return std::monostate();
  }
}

domain::otlp::Attributes FromProto(
    const google::protobuf::RepeatedPtrField<common::KeyValue>& attributes) {
  domain::otlp::Attributes out;
  // The specification says keys are unique; should a sender repeat one, the first stands.
  for (const common::KeyValue& kv : attributes) out.emplace(kv.key(), FromProto(kv.value()));
  return out;
}

std::optional<absl::Time> FromUnixNanos(uint64_t nanos) {
  if (nanos == 0) return std::nullopt;
  return absl::FromUnixNanos(static_cast<int64_t>(nanos > INT64_MAX ? INT64_MAX : nanos));
}

domain::otlp::SpanKind FromProto(trace::Span::SpanKind kind) {
  switch (kind) {
    case trace::Span::SPAN_KIND_INTERNAL:
      return domain::otlp::SpanKind::kInternal;
    case trace::Span::SPAN_KIND_SERVER:
      return domain::otlp::SpanKind::kServer;
    case trace::Span::SPAN_KIND_CLIENT:
      return domain::otlp::SpanKind::kClient;
    case trace::Span::SPAN_KIND_PRODUCER:
      return domain::otlp::SpanKind::kProducer;
    case trace::Span::SPAN_KIND_CONSUMER:
      return domain::otlp::SpanKind::kConsumer;
    default:
      return domain::otlp::SpanKind::kUnspecified;
  }
}

domain::otlp::SpanStatus FromProto(const trace::Status& status) {
  switch (status.code()) {
    case trace::Status::STATUS_CODE_OK:
      return domain::otlp::SpanStatus::kOk;
    case trace::Status::STATUS_CODE_ERROR:
      return domain::otlp::SpanStatus::kError;
    default:
      return domain::otlp::SpanStatus::kUnset;
  }
}

// `json` with every key and string value that is not storable text (domain/ingest/text.h)
// replaced by its EscapeUnstorable rendering.
nlohmann::ordered_json StorableStrings(const nlohmann::ordered_json& value) {
  if (value.is_string()) {
    return domain::ingest::EscapeUnstorable(value.get_ref<const std::string&>());
  }
  if (value.is_array()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const nlohmann::ordered_json& item : value) out.push_back(StorableStrings(item));
    return out;
  }
  if (value.is_object()) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [key, item] : value.items()) {
      out[domain::ingest::EscapeUnstorable(key)] = StorableStrings(item);
    }
    return out;
  }
  return value;
}

std::string WithStorableStrings(const std::string& json) {
  const nlohmann::ordered_json parsed =
      nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return json;  // not expected from protobuf's printer
  return StorableStrings(parsed).dump();
}

}  // namespace

std::string HexId(const std::string& bytes) { return absl::BytesToHexString(bytes); }

OtlpRequestView FromProto(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request) {
  OtlpRequestView view;
  view.resources.reserve(request.resource_spans_size());
  view.wire.reserve(request.resource_spans_size());
  for (const trace::ResourceSpans& rs : request.resource_spans()) {
    domain::otlp::ResourceSpans& out = view.resources.emplace_back();
    std::vector<const trace::Span*>& wire = view.wire.emplace_back();
    out.resource_attributes = FromProto(rs.resource().attributes());
    for (const trace::ScopeSpans& scope : rs.scope_spans()) {
      for (const trace::Span& span : scope.spans()) {
        domain::otlp::Span& s = out.spans.emplace_back();
        s.trace_id = HexId(span.trace_id());
        s.span_id = HexId(span.span_id());
        s.parent_span_id = HexId(span.parent_span_id());
        s.name = span.name();
        s.kind = FromProto(span.kind());
        s.start = FromUnixNanos(span.start_time_unix_nano());
        s.end = FromUnixNanos(span.end_time_unix_nano());
        s.status = FromProto(span.status());
        s.attributes = FromProto(span.attributes());
        wire.push_back(&span);
      }
    }
  }
  return view;
}

std::string OtlpSpanDigest(const opentelemetry::proto::resource::v1::Resource& resource,
                           const trace::Span& span) {
  return Sha256(absl::StrCat(DeterministicBytes(resource), DeterministicBytes(span)));
}

std::string OtlpSpanJson(const trace::Span& span, size_t max_bytes) {
  std::string json;
  const bool printed = google::protobuf::util::MessageToJsonString(span, &json).ok();
  // Protobuf strings may hold NUL, which its JSON printer writes as \u0000; PostgreSQL's jsonb
  // refuses that escape, and one such span would fail its whole write group (found by
  // fuzz_otlp_protobuf). Such strings are rendered as the ledger renders unstorable text. The
  // check may also match an escaped backslash before "u0000": rewriting then changes nothing.
  if (printed && json.find("\\u0000") != std::string::npos) json = WithStorableStrings(json);
  if (!printed || json.size() > max_bytes) {
    return absl::StrCat("{\"truncated\": true, \"bytes\": ", span.ByteSizeLong(),
                        ", \"traceId\": \"", HexId(span.trace_id()).substr(0, 64),
                        "\", \"spanId\": \"", HexId(span.span_id()).substr(0, 64), "\"}");
  }
  return json;
}

}  // namespace stepledger::transport
