#include "client/lib/step_batcher.h"

#include <utility>

#include "absl/base/internal/raw_logging.h"

namespace stepledger::client {

StepBatcher::StepBatcher(int batch_size, uint64_t first_sequence, uint64_t stride)
    : batch_size_(batch_size), stride_(stride), next_sequence_(first_sequence) {
  // Programming errors, not input errors: callers validate user-supplied sizes first.
  ABSL_RAW_CHECK(batch_size >= 1, "StepBatcher: batch_size must be >= 1");
  ABSL_RAW_CHECK(first_sequence >= 1, "StepBatcher: sequence 0 is reserved");
  ABSL_RAW_CHECK(stride >= 1, "StepBatcher: stride must be >= 1");
}

std::optional<stepledger::v1::StepBatch> StepBatcher::Add(stepledger::v1::StepEvent event) {
  *current_.add_events() = std::move(event);
  if (current_.events_size() < batch_size_) return std::nullopt;
  return TakeCurrent();
}

std::optional<stepledger::v1::StepBatch> StepBatcher::Flush() {
  if (current_.events_size() == 0) return std::nullopt;
  return TakeCurrent();
}

stepledger::v1::StepBatch StepBatcher::TakeCurrent() {
  stepledger::v1::StepBatch batch = std::move(current_);
  current_ = stepledger::v1::StepBatch();
  batch.set_sequence(next_sequence_);
  next_sequence_ += stride_;
  return batch;
}

}  // namespace stepledger::client
