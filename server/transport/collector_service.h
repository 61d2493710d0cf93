// gRPC Collector service (callback API).
//
// StreamSteps: each call gets a StepStreamReactor that converts batches to domain events, hands
// them to IngestService and writes a BatchAck per batch once its group committed. Reactions
// never block: database work happens on the GroupCommitter's writer threads, which call back
// here when a group is durable.
//
// StreamSteps is served as raw bytes (the generated raw callback method) so that the collector,
// not protobuf, decides what a malformed batch costs: see step_batch_reader.h.
//
// Flow control: a stream keeps at most `max_inflight_batches` batches waiting for COMMIT or
// for their ack to be delivered; past that it stops reading, so HTTP/2 flow control slows the
// client instead of the collector buffering. Undelivered acks of all streams together are kept
// near `max_unsent_ack_bytes` (ack_memory.h).
//
// GetRun: the reaction checks the run id (no I/O) and hands the query, a blocking database
// read, to a WorkPool the service owns (`run_query_threads` threads); the pool thread converts
// the run and finishes the RPC. At most `max_queued_run_queries` queries wait; past that
// GetRun answers RESOURCE_EXHAUSTED at once.
//
// Lifetime: destroy the grpc::Server (or Shutdown it) before the service: the destructor
// finishes queued GetRun queries and joins the pool.
#ifndef STEPLEDGER_SERVER_TRANSPORT_COLLECTOR_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_COLLECTOR_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "server/domain/ingest/ingest_rate_limiter.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/domain/runs/run_query.h"
#include "server/transport/ack_memory.h"
#include "server/transport/authorizer.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/collector.grpc.pb.h"

namespace stepledger::transport {

class CollectorService final
    : public v1::Collector::WithRawCallbackMethod_StreamSteps<
          v1::Collector::WithCallbackMethod_GetRun<v1::Collector::Service>> {
 public:
  struct Options {
    int max_inflight_batches = 16;
    // Per quarantined event, what its quarantine row keeps of the event (quarantine_json.h).
    size_t max_quarantine_event_bytes = 16 * 1024;
    // Soft bound of undelivered acks over every stream (ack_memory.h).
    int64_t max_unsent_ack_bytes = 64 * 1024 * 1024;
    // Threads that run GetRun queries; size the repository's connection pool to match.
    int run_query_threads = 4;
    size_t max_queued_run_queries = 256;
    // Per-credential ingest rate (null: none). REQUIRES: outlives the service.
    domain::ingest::IngestRateLimiter* rate_limiter = nullptr;
  };

  // REQUIRES: `ingest` and `run_query` outlive the service; `run_query` is not null.
  CollectorService(domain::ingest::IngestService& ingest, domain::runs::RunQuery* run_query,
                   const Authorizer& authorizer, Options options);

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StreamSteps(
      grpc::CallbackServerContext* context) override;

  // Bytes of acks made and not yet handed to gRPC, over every stream (for metrics and tests).
  int64_t unsent_ack_bytes() const { return ack_memory_.bytes(); }

  grpc::ServerUnaryReactor* GetRun(grpc::CallbackServerContext* context,
                                   const v1::GetRunRequest* request, v1::Run* response) override;

 private:
  domain::ingest::IngestService& ingest_;
  domain::runs::RunQuery* const run_query_;
  const Authorizer& authorizer_;
  const Options options_;
  AckMemory ack_memory_;
  WorkPool run_query_pool_;  // Last: joined first, while the members it uses are alive.
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_COLLECTOR_SERVICE_H_
