#include "server/transport/otlp_http.h"

#include <google/protobuf/util/json_util.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "server/transport/status_convert.h"
#include "stepledger/internal/rpc_status_wire.pb.h"

namespace stepledger::transport {
namespace {

namespace collector = opentelemetry::proto::collector::trace::v1;

absl::StatusOr<std::string> Gunzip(absl::string_view in, size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return absl::InternalError("zlib init failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  std::vector<char> buffer(64 * 1024);  // heap: callers may run on small-stack threads
  char* buf = buffer.data();
  const size_t buf_size = buffer.size();
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = static_cast<uInt>(buf_size);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return absl::InvalidArgumentError("body is not valid gzip");
    }
    out.append(buf, buf_size - z.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&z);
      return absl::ResourceExhaustedError(
          absl::StrCat("decompressed body is larger than ", max_bytes, " bytes"));
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return absl::InvalidArgumentError("gzip body is truncated");
    }
  }
  inflateEnd(&z);
  return out;
}

// OTLP/JSON ids are hex; protobuf's JSON mapping of bytes is base64.
absl::Status HexIdsToBase64(nlohmann::json& root) {
  if (!root.is_object()) return absl::InvalidArgumentError("body is not a JSON object");
  auto rs = root.find("resourceSpans");
  if (rs == root.end() || !rs->is_array()) return absl::OkStatus();
  for (auto& resource : *rs) {
    if (!resource.is_object() || !resource.contains("scopeSpans")) continue;
    for (auto& scope : resource["scopeSpans"]) {
      if (!scope.is_object() || !scope.contains("spans")) continue;
      for (auto& span : scope["spans"]) {
        if (!span.is_object()) continue;
        for (const char* key : {"traceId", "spanId", "parentSpanId"}) {
          auto it = span.find(key);
          if (it == span.end() || !it->is_string()) continue;
          const std::string hex = it->get<std::string>();
          std::string bytes;
          if (hex.size() % 2 != 0 || !absl::c_all_of(hex, absl::ascii_isxdigit)) {
            return absl::InvalidArgumentError(
                absl::StrCat(key, " must be hex (OTLP/JSON), got \"", hex.substr(0, 40), "\""));
          }
          bytes = absl::HexStringToBytes(hex);
          *it = absl::Base64Escape(bytes);
        }
      }
    }
  }
  return absl::OkStatus();
}

std::string EncodeStatus(int grpc_code, absl::string_view message, OtlpEncoding encoding) {
  internal::RpcStatusWire status;
  status.set_code(grpc_code);
  status.set_message(std::string(message));
  if (encoding == OtlpEncoding::kProtobuf) return status.SerializeAsString();
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(status, &json);
  return json;
}

std::string ContentType(OtlpEncoding encoding) {
  return encoding == OtlpEncoding::kJson ? "application/json" : "application/x-protobuf";
}

}  // namespace

absl::StatusOr<OtlpEncoding> OtlpEncodingOf(absl::string_view content_type) {
  absl::string_view type = content_type.substr(0, content_type.find(';'));
  type = absl::StripAsciiWhitespace(type);
  if (absl::EqualsIgnoreCase(type, "application/x-protobuf") ||
      absl::EqualsIgnoreCase(type, "application/protobuf")) {
    return OtlpEncoding::kProtobuf;
  }
  if (absl::EqualsIgnoreCase(type, "application/json")) return OtlpEncoding::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported Content-Type \"", content_type.substr(0, 80),
                   "\": use application/x-protobuf or application/json"));
}

absl::StatusOr<collector::ExportTraceServiceRequest> ParseOtlpHttpBody(
    OtlpEncoding encoding, absl::string_view content_encoding, absl::string_view body,
    size_t max_bytes) {
  std::string inflated;
  const absl::string_view encoding_name = absl::StripAsciiWhitespace(content_encoding);
  if (absl::EqualsIgnoreCase(encoding_name, "gzip")) {
    absl::StatusOr<std::string> out = Gunzip(body, max_bytes);
    if (!out.ok()) return out.status();
    inflated = *std::move(out);
    body = inflated;
  } else if (!encoding_name.empty() && !absl::EqualsIgnoreCase(encoding_name, "identity")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported Content-Encoding \"", encoding_name.substr(0, 40), "\""));
  }
  if (body.size() > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("body is larger than ", max_bytes, " bytes"));
  }
  collector::ExportTraceServiceRequest request;
  if (encoding == OtlpEncoding::kProtobuf) {
    if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::InvalidArgumentError("body is not an ExportTraceServiceRequest (protobuf)");
    }
    return request;
  }
  nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError("body is not valid JSON");
  if (absl::Status s = HexIdsToBase64(json); !s.ok()) return s;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json.dump(), &request, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("body is not an ExportTraceServiceRequest (OTLP/JSON): ",
                     std::string(parsed.message()).substr(0, 200)));
  }
  return request;
}

OtlpHttpResponse OtlpHttpError(int status, absl::string_view message, OtlpEncoding encoding) {
  const int grpc_code = status == 400   ? 3  // INVALID_ARGUMENT
                        : status == 413 ? 8  // RESOURCE_EXHAUSTED
                        : status == 415 ? 3
                        : status == 429 ? 8
                        : status == 503 ? 14   // UNAVAILABLE
                        : status == 404 ? 5    // NOT_FOUND
                        : status == 405 ? 12   // UNIMPLEMENTED
                        : status == 401 ? 16   // UNAUTHENTICATED
                        : status == 403 ? 7    // PERMISSION_DENIED
                                        : 13;  // INTERNAL
  return OtlpHttpResponse{.status = status,
                          .content_type = ContentType(encoding),
                          .headers = {},
                          .body = EncodeStatus(grpc_code, message, encoding)};
}

OtlpHttpResponse RenderOtlpHttpOutcome(const OtlpExportOutcome& outcome, OtlpEncoding encoding,
                                       absl::Duration retry_after) {
  const absl::Status& s = outcome.status;
  if (absl::IsResourceExhausted(s) || absl::IsUnavailable(s)) {
    OtlpHttpResponse r = OtlpHttpError(absl::IsUnavailable(s) ? 503 : 429, s.message(), encoding);
    // Retry-After is in whole seconds: the rate limit's wait, rounded up, or the configured one.
    const absl::Duration wait = domain::ingest::RetryDelayOf(s).value_or(retry_after);
    r.headers.emplace_back("Retry-After",
                           absl::StrCat(std::max<int64_t>(
                               1, absl::ToInt64Seconds(absl::Ceil(wait, absl::Seconds(1))))));
    return r;
  }
  if (!s.ok()) {
    // Same client-facing message as the gRPC side (status_convert.h hides internal detail).
    const grpc::Status g = ToGrpcStatus(s);
    return OtlpHttpError(absl::IsInvalidArgument(s) ? 400 : 500, g.error_message(), encoding);
  }
  collector::ExportTraceServiceResponse response;
  if (outcome.rejected_spans > 0) {
    response.mutable_partial_success()->set_rejected_spans(outcome.rejected_spans);
    response.mutable_partial_success()->set_error_message(outcome.error_message);
  }
  OtlpHttpResponse r{
      .status = 200, .content_type = ContentType(encoding), .headers = {}, .body = {}};
  if (encoding == OtlpEncoding::kProtobuf) {
    r.body = response.SerializeAsString();
  } else {
    (void)google::protobuf::util::MessageToJsonString(response, &r.body);
  }
  return r;
}

}  // namespace stepledger::transport
