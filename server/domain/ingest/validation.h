// Validation of one step against DESIGN.md's tag taxonomy and the collector's limits.
//
// ValidateStep() is pure: it reads the step and the time it is handed, never the clock.
// In production a missing or malformed tag rejects the step (it is quarantined by the caller),
// except that a child step naming parent_run_id and parent_step_id may lack feature, team,
// tenant and workload_class: it is accepted as kPending and inherits them from its run's root.
// Outside production a *missing* tag is filled with "(unattributed)" and the step is accepted
// with status kDefaulted; a *malformed* value is rejected in every environment, because a
// wrong value would silently charge someone else.
#ifndef STEPLEDGER_SERVER_DOMAIN_INGEST_VALIDATION_H_
#define STEPLEDGER_SERVER_DOMAIN_INGEST_VALIDATION_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "server/domain/step.h"

namespace stepledger::domain::ingest {

struct ValidationLimits {
  size_t max_events_per_batch = 1000;
  size_t max_id_length = 128;  // event_id, step_id, parent_step_id, operation_id
  size_t max_name_length = 256;
  size_t max_provider_length = 64;
  size_t max_model_length = 128;
  size_t max_tool_name_length = 128;
  size_t max_status_length = 64;
  size_t max_attributes = 32;
  size_t max_attribute_key_length = 64;
  size_t max_attribute_value_length = 256;
  int32_t max_attempt = 1000;
  int64_t max_tokens_per_bucket = 10'000'000'000;          // 1e10: far above any real call
  NanoUsd max_cost_nano_usd = 1'000'000 * kNanoUsdPerUsd;  // $1M for one step is a bug
  absl::Duration max_future_skew = absl::Hours(1);         // clocks drift; days ahead is a bug
  absl::Duration max_age = absl::Hours(24 * 400);          // older than the ledger's retention
};

// Why a step was rejected: the field path (as in the proto, e.g. "tags.feature") and a
// reason a person can act on.
struct FieldError {
  std::string field;
  std::string reason;
};

struct Verdict {
  std::optional<FieldError> error;  // set: rejected, to be quarantined
  AttributionStatus status = AttributionStatus::kComplete;
  // Set for a production step that names its run and parent step but lacks feature, team,
  // tenant or workload_class: it is accepted with status kPending and inherits those tags from
  // its run's root (DESIGN.md "tag taxonomy").
  bool inheritable = false;
  bool checking_placeholders = false;  // internal: re-validation with placeholder tags
};

// Validates `step` and, outside production, fills missing tags with "(unattributed)".
// Normalises attempt 0 to 1. `now` is the receive time.
Verdict ValidateStep(Step& step, absl::Time now, const ValidationLimits& limits);

// The day-placement time of a step: started_at when known, else the receive time.
absl::Time OccurredAt(const Step& step, absl::Time received_at);

bool IsSlug(std::string_view s);                            // [a-z0-9][a-z0-9._-]{0,63}
bool IsTenantId(std::string_view s);                        // [A-Za-z0-9][A-Za-z0-9._:-]{0,127}
bool IsPrintableId(std::string_view s, size_t max_length);  // 1..max printable ASCII

}  // namespace stepledger::domain::ingest

#endif  // STEPLEDGER_SERVER_DOMAIN_INGEST_VALIDATION_H_
