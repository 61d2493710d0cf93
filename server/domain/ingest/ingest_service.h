// IngestService: the use case "a client sent a batch of steps". Validates every event, builds
// the items the write path stores (ledger or quarantine), hands them to the GroupCommitter and,
// once the group committed, turns per-event outcomes into the batch's result (accepted,
// duplicates, rejections with field and reason).
//
// Transport code converts protobuf <-> domain and calls SubmitBatch(); nothing here knows gRPC.
//
// Thread safety: SubmitBatch() may be called concurrently from many streams.
#ifndef STEPLEDGER_SERVER_DOMAIN_INGEST_INGEST_SERVICE_H_
#define STEPLEDGER_SERVER_DOMAIN_INGEST_INGEST_SERVICE_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "server/domain/clock.h"
#include "server/domain/ingest/group_committer.h"
#include "server/domain/ingest/validation.h"

namespace stepledger::domain::ingest {

// The step comes last so that a transport can build it in place: `events.emplace_back(digest,
// error, as_json)` value-initializes the step inside the vector (as_json has no empty state, so
// the event cannot be made first and filled after), where a braced temporary would be moved in.
struct ReceivedEvent {
  std::string digest;  // stable digest of the event as received
  // Set when the event could not be converted faithfully from the wire (a protobuf Timestamp
  // outside protobuf's own range, say): the event is quarantined with this reason, unvalidated.
  // The offending value is not in `step` (a time is left unset), only in as_json().
  std::optional<FieldError> conversion_error;
  // Renders the event as received, as JSON, for quarantine. Only valid during SubmitBatch().
  absl::FunctionRef<std::string()> as_json;
  Step step;
};

struct Rejection {
  std::string event_id;
  std::string field;
  std::string reason;
};

struct BatchResult {
  int64_t accepted = 0;
  int64_t duplicates = 0;
  std::vector<Rejection> rejected;
};

// Counts what the service sees; implemented by the metrics layer. Must be thread-safe.
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  virtual void OnEventsReceived(size_t count) = 0;
  // `code` is a bounded label derived from the reason ("missing", "malformed", "conflict", ...).
  virtual void OnEventRejected(std::string_view field, std::string_view code,
                               std::optional<NanoUsd> reported_cost) = 0;
  virtual void OnBatchResult(const BatchResult& result) = 0;
};

// Bounded metric label for a rejection: the leading words of the reason, and the top-level
// field (so "attributes.<any key>" stays one label value).
std::string RejectionCode(std::string_view reason);
std::string_view RejectionFieldLabel(std::string_view field);

class IngestService {
 public:
  using Done = absl::AnyInvocable<void(absl::StatusOr<BatchResult>) &&>;

  // REQUIRES: all pointers/references outlive this object; observer may be null.
  // `pricer` may be null: steps without a reported cost are then stored unpriced.
  IngestService(GroupCommitter& committer, const Clock& clock, ValidationLimits limits,
                IngestObserver* observer, const StepPricer* pricer = nullptr);

  // Errors returned here mean `done` will not be called: InvalidArgument (batch too large),
  // ResourceExhausted (write queue full), Unavailable (shutting down).
  absl::Status SubmitBatch(std::vector<ReceivedEvent> events, Done done);

  const ValidationLimits& limits() const { return limits_; }

 private:
  GroupCommitter& committer_;
  const Clock& clock_;
  const ValidationLimits limits_;
  IngestObserver* const observer_;
  const StepPricer* const pricer_;
};

}  // namespace stepledger::domain::ingest

#endif  // STEPLEDGER_SERVER_DOMAIN_INGEST_INGEST_SERVICE_H_
