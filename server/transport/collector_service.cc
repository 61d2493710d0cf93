#include "server/transport/collector_service.h"

#include "server/transport/step_stream_reactor.h"

namespace stepledger::transport {

CollectorService::CollectorService(domain::ingest::IngestService& ingest, Options options)
    : ingest_(ingest), options_(options) {}

grpc::ServerBidiReactor<v1::StepBatch, v1::BatchAck>* CollectorService::StreamSteps(
    grpc::CallbackServerContext* /*context*/) {
  return new StepStreamReactor(ingest_, options_.max_inflight_batches);
}

}  // namespace stepledger::transport
