// gRPC Collector service (callback API).
//
// StreamSteps: each call gets a StepStreamReactor that converts batches to domain events, hands
// them to IngestService and writes a BatchAck per batch once its group committed. Reactions
// never block: database work happens on the GroupCommitter's writer threads, which call back
// here when a group is durable.
//
// Flow control: a stream keeps at most `max_inflight_batches` batches waiting for COMMIT; past
// that it stops reading, so HTTP/2 flow control slows the client instead of buffering.
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

#include "server/domain/ingest/ingest_service.h"
#include "server/domain/runs/run_query.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/collector.grpc.pb.h"

namespace stepledger::transport {

class CollectorService final : public v1::Collector::CallbackService {
 public:
  struct Options {
    int max_inflight_batches = 16;
    // Threads that run GetRun queries; size the repository's connection pool to match.
    int run_query_threads = 4;
    size_t max_queued_run_queries = 256;
  };

  // REQUIRES: `ingest` and `run_query` outlive the service; `run_query` is not null.
  CollectorService(domain::ingest::IngestService& ingest, domain::runs::RunQuery* run_query,
                   Options options);

  grpc::ServerBidiReactor<v1::StepBatch, v1::BatchAck>* StreamSteps(
      grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* GetRun(grpc::CallbackServerContext* context,
                                   const v1::GetRunRequest* request, v1::Run* response) override;

 private:
  domain::ingest::IngestService& ingest_;
  domain::runs::RunQuery* const run_query_;
  const Options options_;
  WorkPool run_query_pool_;  // Last: joined first, while the members it uses are alive.
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_COLLECTOR_SERVICE_H_
