// Reads StepBatch messages off the wire for one stream, so that a bad event costs only itself.
//
// A batch is parsed as the API's stepledger.v1.StepBatch first (the usual case, no extra cost).
// Protobuf refuses that whole message when any `string` field holds bytes that are not UTF-8;
// the batch is then read again with the lenient messages of step_wire.proto, event by event:
// an event that the API's reading accepts on its own goes on as usual (same digest as ever), and
// one that it refuses goes on with its bytes as sent, for validation to reject with the field's
// name and for quarantine to keep, escaped. Only a message that is not a StepBatch at all (not
// even leniently) is refused as a whole: InvalidArgument naming the batch's sequence when that
// much can be read.
//
// Thread safety: none; one reader per stream, used between a read and its submission.
// Lifetime: the events returned by Read() refer to the reader (their as_json renders from it)
// and are valid until the next Read().
#ifndef STEPLEDGER_SERVER_TRANSPORT_STEP_BATCH_READER_H_
#define STEPLEDGER_SERVER_TRANSPORT_STEP_BATCH_READER_H_

#include <grpcpp/support/byte_buffer.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/ingest/ingest_service.h"
#include "stepledger/internal/step_wire.pb.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::transport {

class StepBatchReader {
 public:
  explicit StepBatchReader(size_t max_quarantine_event_bytes)
      : max_quarantine_event_bytes_(max_quarantine_event_bytes) {}

  struct Batch {
    uint64_t sequence = 0;
    std::vector<domain::ingest::ReceivedEvent> events;
    size_t wire_bytes = 0;  // the message's size as received
  };

  // Parses `buffer` (left empty). InvalidArgument when it is not a StepBatch even leniently.
  absl::StatusOr<Batch> Read(grpc::ByteBuffer& buffer);

  // Frees what the last Read() kept (the parsed batch, its renderers). Read() reuses that
  // memory, which is cheaper while a stream keeps reading; a stream that stops reading (its
  // client does not take its acks, or its commits are slow) calls this so that it does not hold
  // a parsed batch, uncounted, for as long as it waits. REQUIRES: the events of the last Read()
  // are no longer used.
  void Release();

 private:
  // Each appends the event's ReceivedEvent to `events` (reserved by the caller).
  void Strict(const v1::StepEvent& event, std::vector<domain::ingest::ReceivedEvent>& events);
  void Lenient(const internal::WireStepEvent& event,
               std::vector<domain::ingest::ReceivedEvent>& events);

  const size_t max_quarantine_event_bytes_;
  v1::StepBatch strict_;
  internal::WireStepBatch lenient_;
  // Events of a lenient batch that the API's reading accepts, re-read as such.
  std::vector<v1::StepEvent> recovered_;
  // One renderer per event; reserved before use so that the FunctionRefs stay valid.
  std::vector<std::function<std::string()>> renderers_;
  std::string digest_scratch_;  // each event's serialization for its digest, memory reused
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_STEP_BATCH_READER_H_
