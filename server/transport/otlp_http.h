// OTLP/HTTP trace export, the parts that are not sockets: reading a `POST /v1/traces` body
// (binary protobuf or OTLP/JSON, optionally gzip) into the request, and rendering the outcome
// (otlp_ingest.h) as the OTLP/HTTP specification asks: 200 with an ExportTraceServiceResponse,
// 400 for a body that cannot be read, 415 for other content types, 429 (queue full) or 503
// (unavailable) with Retry-After for retryable failures, 500 otherwise; error bodies are a
// google.rpc.Status in the request's encoding. The HTTP server itself is otlp_http_server.h.
//
// OTLP/JSON differs from protobuf's JSON mapping in one place that matters here: trace and span
// ids are hex, not base64. They are rewritten before protobuf's JSON parser reads the body;
// keys are lowerCamelCase as the specification requires, enums may be numbers, unknown fields
// are ignored.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_TRANSPORT_OTLP_HTTP_H_
#define STEPLEDGER_SERVER_TRANSPORT_OTLP_HTTP_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "server/transport/otlp_ingest.h"

namespace stepledger::transport {

enum class OtlpEncoding { kProtobuf, kJson };

struct OtlpHttpResponse {
  int status = 200;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The encoding named by a Content-Type header (parameters ignored); InvalidArgument otherwise.
absl::StatusOr<OtlpEncoding> OtlpEncodingOf(absl::string_view content_type);

// Decodes `body` (gunzipped first when `content_encoding` is "gzip"; at most `max_bytes` after
// decompression, else ResourceExhausted). InvalidArgument names what could not be read.
absl::StatusOr<opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest>
ParseOtlpHttpBody(OtlpEncoding encoding, absl::string_view content_encoding, absl::string_view body,
                  size_t max_bytes);

OtlpHttpResponse RenderOtlpHttpOutcome(const OtlpExportOutcome& outcome, OtlpEncoding encoding,
                                       absl::Duration retry_after);

// An error response: `status` with a google.rpc.Status body carrying `message`.
OtlpHttpResponse OtlpHttpError(int status, absl::string_view message, OtlpEncoding encoding);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_OTLP_HTTP_H_
