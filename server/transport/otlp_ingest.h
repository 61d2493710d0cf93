// The OTLP trace export use case, shared by OTLP/gRPC (otlp_trace_service.h) and OTLP/HTTP
// (otlp_http.h): converts a request (otlp_convert.h), maps its spans to steps (domain/otlp),
// hands them to IngestService exactly as StreamSteps does, in chunks of at most the ingest batch
// limit, and reports once every chunk committed. Each transport only renders the outcome.
//
// Thread safety: Export may be called concurrently. `done` runs exactly once, on a writer
// thread (after the commit) or on the calling thread (nothing to store, or refused at once).
// Lifetime: `request` is only read during Export(); `ingest` outlives this object.
#ifndef STEPLEDGER_SERVER_TRANSPORT_OTLP_INGEST_H_
#define STEPLEDGER_SERVER_TRANSPORT_OTLP_INGEST_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "server/domain/auth/principal.h"
#include "server/domain/ingest/ingest_rate_limiter.h"
#include "server/domain/ingest/ingest_service.h"

namespace stepledger::transport {

struct OtlpExportOutcome {
  // Not OK: nothing is promised about the request (the client retries it; steps committed by
  // other chunks come back as duplicates). ResourceExhausted (queue full) and Unavailable
  // (shutting down, database unavailable) are the retryable ones.
  absl::Status status;
  // With an OK status: spans rejected by validation (quarantined) and why.
  int64_t rejected_spans = 0;
  std::string error_message;
};

class OtlpIngest {
 public:
  using Done = absl::AnyInvocable<void(OtlpExportOutcome) &&>;

  // REQUIRES: `ingest` and `rate_limiter` (null: no limit) outlive this object.
  OtlpIngest(domain::ingest::IngestService& ingest, size_t max_quarantine_event_bytes,
             domain::ingest::IngestRateLimiter* rate_limiter = nullptr);

  // Spans outside the caller's scopes are rejected one by one (domain/ingest/scope_filter.h).
  // Over the caller's ingest rate, nothing is stored: ResourceExhausted with a retry delay.
  void Export(const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
              const domain::auth::Principal& caller, Done done);

 private:
  domain::ingest::IngestService& ingest_;
  const size_t max_quarantine_event_bytes_;
  domain::ingest::IngestRateLimiter* const rate_limiter_;
};

// The partial-success message: how many spans were rejected and why, naming the first
// `max_named` span ids with their field and reason.
std::string RejectionSummary(const std::vector<domain::ingest::Rejection>& rejected,
                             size_t max_named = 5);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_OTLP_INGEST_H_
