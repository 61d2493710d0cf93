// OTLP/HTTP bodies and answers (server/transport/otlp_http.h), no sockets.
#include "server/transport/otlp_http.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "stepledger/internal/rpc_status_wire.pb.h"

namespace stepledger::transport {
namespace {

constexpr size_t kMax = 1 << 20;

std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

constexpr char kJson[] = R"({"resourceSpans":[{"resource":{"attributes":[
  {"key":"stepledger.team","value":{"stringValue":"mail"}}]},
  "scopeSpans":[{"scope":{"name":"s"},"spans":[{
    "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
    "parentSpanId":"","name":"chat","kind":3,"startTimeUnixNano":"1733400000000000001",
    "unknownField":1,
    "attributes":[{"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}},
                  {"key":"cost","value":{"doubleValue":0.5}}],
    "status":{"code":2}}]}]}]})";

TEST(OtlpEncodingOf, AcceptsProtobufAndJsonWithParameters) {
  EXPECT_EQ(OtlpEncodingOf("application/x-protobuf").value(), OtlpEncoding::kProtobuf);
  EXPECT_EQ(OtlpEncodingOf("application/json; charset=utf-8").value(), OtlpEncoding::kJson);
  EXPECT_EQ(OtlpEncodingOf("Application/JSON").value(), OtlpEncoding::kJson);
  EXPECT_FALSE(OtlpEncodingOf("text/plain").ok());
  EXPECT_FALSE(OtlpEncodingOf("").ok());
}

TEST(ParseOtlpHttpBody, JsonHexIdsBecomeBytesAndUnknownFieldsAreIgnored) {
  auto request = ParseOtlpHttpBody(OtlpEncoding::kJson, "", kJson, kMax);
  ASSERT_TRUE(request.ok()) << request.status();
  const auto& span = request->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(span.trace_id(), absl::HexStringToBytes("5b8efff798038103d269b633813fc60c"));
  EXPECT_EQ(span.span_id(), absl::HexStringToBytes("eee19b7ec3c1b174"));
  EXPECT_TRUE(span.parent_span_id().empty());
  EXPECT_EQ(span.kind(), opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(span.start_time_unix_nano(), 1733400000000000001u);
  EXPECT_EQ(span.attributes(0).value().int_value(), 12);
  EXPECT_EQ(span.status().code(), opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
}

TEST(ParseOtlpHttpBody, GzipProtobufRoundTrips) {
  auto json = ParseOtlpHttpBody(OtlpEncoding::kJson, "", kJson, kMax);
  ASSERT_TRUE(json.ok());
  auto request =
      ParseOtlpHttpBody(OtlpEncoding::kProtobuf, "gzip", Gzip(json->SerializeAsString()), kMax);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->SerializeAsString(), json->SerializeAsString());
}

TEST(ParseOtlpHttpBody, RefusesWhatItCannotRead) {
  EXPECT_TRUE(absl::IsInvalidArgument(
      ParseOtlpHttpBody(OtlpEncoding::kJson, "", "{not json", kMax).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ParseOtlpHttpBody(OtlpEncoding::kJson, "",
                        R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]})",
                        kMax)
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ParseOtlpHttpBody(OtlpEncoding::kProtobuf, "gzip", "not gzip", kMax).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ParseOtlpHttpBody(OtlpEncoding::kProtobuf, "br", "x", kMax).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ParseOtlpHttpBody(OtlpEncoding::kProtobuf, "", "\xff\xff\xff", kMax).status()));
}

TEST(ParseOtlpHttpBody, DecompressedSizeIsBounded) {
  const std::string zeros(100'000, '\0');
  EXPECT_TRUE(absl::IsResourceExhausted(
      ParseOtlpHttpBody(OtlpEncoding::kProtobuf, "gzip", Gzip(zeros), 10'000).status()));
}

TEST(RenderOtlpHttpOutcome, PartialSuccessInTheRequestsEncoding) {
  OtlpExportOutcome outcome;
  outcome.rejected_spans = 2;
  outcome.error_message = "2 span(s) rejected";
  OtlpHttpResponse json = RenderOtlpHttpOutcome(outcome, OtlpEncoding::kJson, absl::Seconds(1));
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_TRUE(absl::StrContains(json.body, R"("rejectedSpans":"2")")) << json.body;
  OtlpHttpResponse proto =
      RenderOtlpHttpOutcome(outcome, OtlpEncoding::kProtobuf, absl::Seconds(1));
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse response;
  ASSERT_TRUE(response.ParseFromString(proto.body));
  EXPECT_EQ(response.partial_success().rejected_spans(), 2);
}

TEST(RenderOtlpHttpOutcome, BackpressureIs429Or503WithRetryAfter) {
  OtlpExportOutcome full;
  full.status = absl::ResourceExhaustedError("queue full");
  OtlpHttpResponse r = RenderOtlpHttpOutcome(full, OtlpEncoding::kProtobuf, absl::Seconds(2));
  EXPECT_EQ(r.status, 429);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  internal::RpcStatusWire status;
  ASSERT_TRUE(status.ParseFromString(r.body));
  EXPECT_EQ(status.message(), "queue full");
  OtlpExportOutcome down;
  down.status = absl::UnavailableError("database unreachable; retry");
  EXPECT_EQ(RenderOtlpHttpOutcome(down, OtlpEncoding::kJson, absl::Seconds(1)).status, 503);
}

// The rate limit's own wait (domain/ingest/ingest_rate_limiter.h) wins over the configured one,
// rounded up to whole seconds.
TEST(RenderOtlpHttpOutcome, RateLimitIs429WithItsOwnWaitRoundedUp) {
  OtlpExportOutcome limited;
  limited.status = domain::ingest::WithRetryDelay(
      absl::ResourceExhaustedError("ingest rate limit of this credential exceeded"),
      absl::Milliseconds(2300));
  OtlpHttpResponse r = RenderOtlpHttpOutcome(limited, OtlpEncoding::kProtobuf, absl::Seconds(1));
  EXPECT_EQ(r.status, 429);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "3");
}

}  // namespace
}  // namespace stepledger::transport
