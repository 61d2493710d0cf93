#include "server/transport/step_batch_reader.h"

#include <grpcpp/support/proto_buffer_reader.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/transport/quarantine_json.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {
namespace {

bool ParseFrom(const grpc::ByteBuffer& buffer, google::protobuf::Message& message) {
  grpc::ByteBuffer copy(buffer);  // shares the slices; the reader consumes its own handle
  grpc::ProtoBufferReader reader(&copy);
  return message.ParseFromZeroCopyStream(&reader);
}

}  // namespace

void StepBatchReader::Strict(const v1::StepEvent& event,
                             std::vector<domain::ingest::ReceivedEvent>& events) {
  renderers_.emplace_back([this, &event] {
    internal::WireStepEvent wire;
    wire.ParseFromString(event.SerializeAsString());  // same wire format: cannot fail
    return QuarantineJson(wire, max_quarantine_event_bytes_);
  });
  domain::ingest::ReceivedEvent& out =
      events.emplace_back(EventDigest(event, digest_scratch_), std::nullopt, renderers_.back());
  FromWire(event, out.step, out.conversion_error);  // in place: no step is moved
}

void StepBatchReader::Lenient(const internal::WireStepEvent& event,
                              std::vector<domain::ingest::ReceivedEvent>& events) {
  const std::string bytes = DeterministicBytes(event);
  v1::StepEvent& api = recovered_.emplace_back();
  if (api.ParseFromString(bytes)) {
    Strict(api, events);
    return;
  }
  recovered_.pop_back();
  ConvertedStep converted = FromWire(event);
  renderers_.emplace_back(
      [this, &event] { return QuarantineJson(event, max_quarantine_event_bytes_); });
  events.emplace_back(Sha256(bytes), std::move(converted.error), renderers_.back(),
                      std::move(converted.step));
}

void StepBatchReader::Release() {
  // Assigning fresh objects frees the old ones' memory; Clear() would keep it for reuse.
  strict_ = v1::StepBatch();
  lenient_ = internal::WireStepBatch();
  recovered_ = {};
  renderers_ = {};
  digest_scratch_ = {};
}

absl::StatusOr<StepBatchReader::Batch> StepBatchReader::Read(grpc::ByteBuffer& buffer) {
  Batch batch;
  batch.wire_bytes = buffer.Length();
  renderers_.clear();
  recovered_.clear();
  strict_.Clear();
  lenient_.Clear();
  if (ParseFrom(buffer, strict_)) {
    buffer.Clear();
    batch.sequence = strict_.sequence();
    renderers_.reserve(strict_.events_size());
    batch.events.reserve(strict_.events_size());
    for (const v1::StepEvent& e : strict_.events()) Strict(e, batch.events);
    return batch;
  }
  if (ParseFrom(buffer, lenient_)) {
    buffer.Clear();
    batch.sequence = lenient_.sequence();
    renderers_.reserve(lenient_.events_size());
    recovered_.reserve(lenient_.events_size());  // Strict() keeps references into it
    batch.events.reserve(lenient_.events_size());
    for (const internal::WireStepEvent& e : lenient_.events()) Lenient(e, batch.events);
    return batch;
  }
  internal::WireBatchSequence header;
  const bool named = ParseFrom(buffer, header);
  buffer.Clear();
  return absl::InvalidArgumentError(
      named ? absl::StrCat("batch with sequence ", header.sequence(),
                           " is not a valid StepBatch message; nothing of it was stored")
            : "a batch (sequence unreadable) is not a valid StepBatch message; nothing of it "
              "was stored");
}

}  // namespace stepledger::transport
