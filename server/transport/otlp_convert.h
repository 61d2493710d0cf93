// OTLP trace protobuf -> domain spans (domain/otlp/span.h), and what the ingest path needs of
// each span as received: a digest for idempotency and a JSON rendering for quarantine.
//
// Ids become lower-case hex of the bytes received (whatever their length: the mapping checks
// them). Attribute values keep their scalar kind; arrays, maps and bytes are kept as absent
// values, which the mapping never reads. Scopes are flattened: a resource's spans are listed
// in the order of its scopes.
//
// Thread safety: pure functions. Lifetime: the `wire` pointers refer into the request.
#ifndef STEPLEDGER_SERVER_TRANSPORT_OTLP_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_OTLP_CONVERT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "server/domain/otlp/span.h"

namespace stepledger::transport {

struct OtlpRequestView {
  std::vector<domain::otlp::ResourceSpans> resources;
  // wire[r][i] is the span that resources[r].spans[i] was read from.
  std::vector<std::vector<const opentelemetry::proto::trace::v1::Span*>> wire;
};

OtlpRequestView FromProto(
    const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request);

std::string HexId(const std::string& bytes);

// SHA-256 over the deterministic bytes of the span and of its resource: a re-export of the
// same span from the same resource has the same digest.
std::string OtlpSpanDigest(const opentelemetry::proto::resource::v1::Resource& resource,
                           const opentelemetry::proto::trace::v1::Span& span);

// The span as protobuf's JSON (ids in base64, as protobuf renders bytes), for quarantine's jsonb;
// a string holding NUL (which jsonb refuses) is rendered escaped, as domain/ingest/text.h's
// EscapeUnstorable does. Past `max_bytes`, a stub naming the span's ids and full size instead.
std::string OtlpSpanJson(const opentelemetry::proto::trace::v1::Span& span, size_t max_bytes);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_OTLP_CONVERT_H_
