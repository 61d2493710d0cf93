// OTLP/gRPC trace ingestion: opentelemetry.proto.collector.trace.v1.TraceService/Export on the
// collector's gRPC port (docs/OTLP.md).
//
// Export hands the request to OtlpIngest (otlp_ingest.h: mapping, chunks, IngestService exactly
// as StreamSteps uses it) and finishes from the commit completion of the last chunk, so an OK
// answer means every step is durable in PostgreSQL; the reaction itself never blocks.
//
// Outcomes, as an OpenTelemetry exporter expects them:
// - spans that fail validation are quarantined (nothing is lost) and reported through
//   partial_success: rejected_spans and a message naming the first few span ids and fields;
// - a full write queue is RESOURCE_EXHAUSTED and a collector shutting down or a database
//   that is unavailable is UNAVAILABLE, each with google.rpc.RetryInfo in the status details
//   (without it, OTLP exporters drop the data instead of retrying). A retried request is
//   harmless: event ids come from trace and span ids, so steps already stored are duplicates.
//
// Thread safety: Export may run concurrently (OtlpIngest is thread-safe). Lifetime: `ingest`
// outlives the service; shut the grpc::Server down before destroying it.
#ifndef STEPLEDGER_SERVER_TRANSPORT_OTLP_TRACE_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_OTLP_TRACE_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "absl/time/time.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/transport/authorizer.h"
#include "server/transport/otlp_ingest.h"

namespace stepledger::transport {

class OtlpTraceService final
    : public opentelemetry::proto::collector::trace::v1::TraceService::CallbackService {
 public:
  struct Options {
    size_t max_quarantine_event_bytes = 16 * 1024;
    absl::Duration retry_delay = absl::Seconds(1);  // sent in RetryInfo
    // Per-credential ingest rate (null: none). REQUIRES: outlives the service.
    domain::ingest::IngestRateLimiter* rate_limiter = nullptr;
  };

  // REQUIRES: `ingest` outlives the service.
  OtlpTraceService(domain::ingest::IngestService& ingest, const Authorizer& authorizer,
                   Options options);

  grpc::ServerUnaryReactor* Export(
      grpc::CallbackServerContext* context,
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request,
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse* response) override;

 private:
  grpc::Status ToGrpc(
      const OtlpExportOutcome& outcome,
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse* response) const;

  OtlpIngest ingest_;
  const Authorizer& authorizer_;
  const Options options_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_OTLP_TRACE_SERVICE_H_
