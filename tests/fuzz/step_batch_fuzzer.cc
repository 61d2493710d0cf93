// Event validation as a collector stream meets it: the bytes of one StepBatch message go through
// StepBatchReader (strict, then lenient reading), and every event through ValidateStep as
// IngestService does. Properties (fuzz_checks.h): an accepted step is storable text, and a
// rejected event's quarantine JSON is storable jsonb.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"
#include "server/domain/ingest/ingest_service.h"
#include "server/domain/ingest/validation.h"
#include "server/transport/step_batch_reader.h"
#include "tests/fuzz/fuzz_checks.h"

namespace {

using stepledger::domain::ingest::ReceivedEvent;
using stepledger::domain::ingest::Verdict;

// A fixed receive time (2026-11-28), so that a crash reproduces whatever day it is.
const absl::Time kNow = absl::FromUnixSeconds(1'795'910'400);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One reader for the whole run, as one stream reuses its reader batch after batch.
  static stepledger::transport::StepBatchReader reader(16 * 1024);
  static const stepledger::domain::ingest::ValidationLimits limits;
  grpc::Slice slice(data, size);
  grpc::ByteBuffer buffer(&slice, 1);
  absl::StatusOr<stepledger::transport::StepBatchReader::Batch> batch = reader.Read(buffer);
  if (!batch.ok()) return 0;
  for (ReceivedEvent& event : batch->events) {
    if (event.digest.size() != 32) stepledger::fuzz::Fail("digest", "not 32 bytes");
    Verdict verdict;
    if (event.conversion_error.has_value()) {
      verdict.error = event.conversion_error;
    } else {
      verdict = stepledger::domain::ingest::ValidateStep(event.step, kNow, limits);
    }
    (void)stepledger::domain::ingest::OccurredAt(event.step, kNow);
    if (!verdict.error.has_value()) {
      stepledger::fuzz::CheckAcceptedStepIsStorable(event.step);
      continue;
    }
    stepledger::fuzz::CheckJsonbStorable(event.as_json());
    (void)stepledger::domain::ingest::RejectionCode(verdict.error->reason);
    stepledger::fuzz::CheckStorableText(
        "rejection reason", stepledger::domain::ingest::EscapeUnstorable(verdict.error->reason));
  }
  return 0;
}
