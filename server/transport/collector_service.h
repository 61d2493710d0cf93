// gRPC Collector service (callback API). Each StreamSteps call gets a StepStreamReactor that
// converts batches to domain events, hands them to IngestService and writes a BatchAck per
// batch once its group committed. Reactions never block: database work happens on the
// GroupCommitter's writer threads, which call back here when a group is durable.
//
// Flow control: a stream keeps at most `max_inflight_batches` batches waiting for COMMIT; past
// that it stops reading, so HTTP/2 flow control slows the client instead of buffering.
#ifndef STEPLEDGER_SERVER_TRANSPORT_COLLECTOR_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_COLLECTOR_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "server/domain/ingest/ingest_service.h"
#include "stepledger/v1/collector.grpc.pb.h"

namespace stepledger::transport {


class CollectorService final : public v1::Collector::CallbackService {
 public:
  struct Options {
    int max_inflight_batches = 16;
  };

  // REQUIRES: `ingest` outlives the service.
  CollectorService(domain::ingest::IngestService& ingest, Options options);

  grpc::ServerBidiReactor<v1::StepBatch, v1::BatchAck>* StreamSteps(
      grpc::CallbackServerContext* context) override;

 private:
  domain::ingest::IngestService& ingest_;
  const Options options_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_COLLECTOR_SERVICE_H_
