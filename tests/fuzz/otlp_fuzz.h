// The body of both OTLP fuzz targets: one OTLP/HTTP request body, read as the HTTP server reads
// it (gunzipped first when it starts with gzip's magic bytes), then converted, mapped and
// validated as OtlpIngest::Export does before it submits. Properties (fuzz_checks.h): an
// accepted step is storable text; a rejected span's quarantine JSON is storable jsonb.
#ifndef STEPLEDGER_TESTS_FUZZ_OTLP_FUZZ_H_
#define STEPLEDGER_TESTS_FUZZ_OTLP_FUZZ_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "server/domain/ingest/validation.h"
#include "server/domain/otlp/span_mapping.h"
#include "server/transport/otlp_convert.h"
#include "server/transport/otlp_http.h"
#include "tests/fuzz/fuzz_checks.h"

namespace stepledger::fuzz {

inline void FuzzOtlpBody(transport::OtlpEncoding encoding, const uint8_t* data, size_t size) {
  static const domain::ingest::ValidationLimits limits;
  const absl::Time now = absl::FromUnixSeconds(1'795'910'400);  // fixed: crashes reproduce
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  auto request = transport::ParseOtlpHttpBody(encoding, gzip ? "gzip" : "", body, 1 << 20);
  if (!request.ok()) return;
  const transport::OtlpRequestView view = transport::FromProto(*request);
  domain::otlp::Mapping mapping = domain::otlp::MapSpans(view.resources);
  for (domain::otlp::MappedSpan& mapped : mapping.steps) {
    const auto& resource = request->resource_spans(static_cast<int>(mapped.resource_index));
    const auto* span = view.wire[mapped.resource_index][mapped.span_index];
    if (transport::OtlpSpanDigest(resource.resource(), *span).size() != 32) {
      Fail("span digest", "not 32 bytes");
    }
    domain::ingest::Verdict verdict;
    if (mapped.conversion_error.has_value()) {
      verdict.error = mapped.conversion_error;
    } else {
      verdict = domain::ingest::ValidateStep(mapped.step, now, limits);
    }
    if (!verdict.error.has_value()) {
      CheckAcceptedStepIsStorable(mapped.step);
    } else {
      CheckJsonbStorable(transport::OtlpSpanJson(*span, 16 * 1024));
    }
  }
}

}  // namespace stepledger::fuzz

#endif  // STEPLEDGER_TESTS_FUZZ_OTLP_FUZZ_H_
