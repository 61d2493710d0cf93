// OtlpSpanJson (server/transport/otlp_convert.h): the quarantine rendering of a rejected span
// must be storable in PostgreSQL's jsonb, which refuses U+0000 in any string.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "server/domain/ingest/validation.h"
#include "server/domain/otlp/span_mapping.h"
#include "server/transport/otlp_convert.h"

namespace stepledger::transport {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::trace::v1::Span;

void AddString(Span& span, const std::string& key, const std::string& value) {
  auto* kv = span.add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

bool HoldsNul(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>().find('\0') != std::string::npos;
  for (const auto& [key, item] : value.items()) {
    if (key.find('\0') != std::string::npos || HoldsNul(item)) return true;
  }
  return false;
}

// Found by fuzz_otlp_protobuf: a chat span whose response model holds a NUL byte (a valid
// protobuf string). Validation rejects the model, and the span was quarantined with JSON holding
// "\u0000", which jsonb refuses, failing the whole write group.
TEST(OtlpSpanJson, AStringWithNulIsRenderedEscapedSoJsonbTakesIt) {
  ExportTraceServiceRequest request;
  auto* rs = request.add_resource_spans();
  auto* attribute = rs->mutable_resource()->add_attributes();
  attribute->set_key("deployment.environment.name");
  attribute->mutable_value()->set_string_value("staging");
  Span* span = rs->add_scope_spans()->add_spans();
  span->set_trace_id(std::string(16, '\x5b'));
  span->set_span_id(std::string(8, '\x0e'));
  span->set_name("chat gpt-4o");
  span->set_start_time_unix_nano(1'795'910'400'000'000'000);
  AddString(*span, "gen_ai.operation.name", "chat");
  AddString(*span, std::string("gen_ai.response.model"), std::string("gpt\0-4o", 7));
  AddString(*span, "note", "a backslash: \\u0000 as six characters");

  // The span is stored as a step, and validation rejects it: it goes to quarantine.
  const OtlpRequestView view = FromProto(request);
  domain::otlp::Mapping mapping = domain::otlp::MapSpans(view.resources);
  ASSERT_EQ(mapping.steps.size(), 1u);
  ASSERT_FALSE(mapping.steps[0].conversion_error.has_value());
  const domain::ingest::Verdict verdict =
      domain::ingest::ValidateStep(mapping.steps[0].step, absl::FromUnixSeconds(1'795'910'400), {});
  ASSERT_TRUE(verdict.error.has_value());
  EXPECT_EQ(verdict.error->field, "model");

  const std::string json = OtlpSpanJson(*span, 16 * 1024);
  const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json;
  EXPECT_FALSE(HoldsNul(parsed)) << json;
  EXPECT_EQ(json.find("\\u0000\""), std::string::npos) << json;
  // The rest is kept as protobuf renders it: names, ids (base64), other attributes as sent.
  EXPECT_EQ(parsed["name"], "chat gpt-4o");
  EXPECT_EQ(parsed["spanId"], "Dg4ODg4ODg4=");
  EXPECT_EQ(parsed["attributes"][1]["value"]["stringValue"], "gpt\\x00-4o");
  EXPECT_EQ(parsed["attributes"][2]["value"]["stringValue"],
            "a backslash: \\u0000 as six characters");
}

TEST(OtlpSpanJson, ASpanWithoutNulIsProtobufsJsonUnchanged) {
  Span span;
  span.set_name("embeddings");
  AddString(span, "note", "a backslash: \\u0000 as six characters");
  std::string expected;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(span, &expected).ok());
  EXPECT_EQ(OtlpSpanJson(span, 16 * 1024), expected);
}

}  // namespace
}  // namespace stepledger::transport
