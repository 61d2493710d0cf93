// The port between the write path and durable storage.
//
// An IngestItem is one received event after validation: either a step to store in the ledger
// or a rejected event to keep in quarantine. A LedgerStore commits a group of items in ONE
// transaction and reports, per item, what happened. Nothing is acknowledged to a client before
// Commit() returned OK.
#ifndef STEPLEDGER_SERVER_DOMAIN_INGEST_LEDGER_PORT_H_
#define STEPLEDGER_SERVER_DOMAIN_INGEST_LEDGER_PORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/domain/ingest/validation.h"
#include "server/domain/step.h"

namespace stepledger::domain::ingest {

enum class CostSource { kReported, kComputed, kUnpriced };
std::string_view ToString(CostSource source);

struct IngestItem {
  Step step;
  // Attribution as validated; after an accepted commit, as the ledger recorded it (the store
  // writes it back: a step can be charged to its run's root while it is inserted). `mutable`
  // because Commit() sees the items as const, yet this is exactly what observers must read.
  mutable AttributionStatus status = AttributionStatus::kComplete;
  std::optional<FieldError> rejection;  // set: goes to quarantine, never to the ledger
  // Digest of the event's content as received (stable across processes): tells a harmless
  // re-send (same id, same digest) from a conflict (same id, other content).
  std::string digest;
  absl::Time received_at;
  // The event as received, for the quarantine table (JSON). Only filled for rejected events.
  std::string raw_json;

  // Who pays: the own tags unless inherited from / overridden by the run's root. Written back
  // by the store after commit, like `status`.
  mutable Tags charged;
  // The cost the ledger records: reported (always wins), computed from the price catalog, or
  // unpriced (nullopt: unknown, never zero).
  std::optional<NanoUsd> cost_nano_usd;
  CostSource cost_source = CostSource::kUnpriced;
  std::string price_version;    // the catalog version used when computed
  std::string unpriced_reason;  // why cost_nano_usd is unknown ("unknown_model", ...), else ""

  absl::Time occurred_at() const { return OccurredAt(step, received_at); }
};

// Memory an item holds, roughly (its strings, the quarantine payload included): what the write
// queue's byte bound counts.
size_t ApproximateBytes(const IngestItem& item);

enum class Outcome {
  kAccepted,          // stored for the first time
  kDuplicate,         // already stored with the same digest; nothing written
  kConflict,          // already stored with another digest; stored row unchanged; quarantined
  kQuarantined,       // failed validation; kept in quarantine (first time this content was seen)
  kQuarantinedAgain,  // failed validation; the same content was quarantined before
};

// Prices a step that came without a reported cost (implemented from the price catalog).
struct PricedCost {
  std::optional<NanoUsd> cost_nano_usd;  // nullopt: unpriced, never zero
  CostSource source = CostSource::kUnpriced;
  std::string price_version;
  std::string unpriced_reason;
};

class StepPricer {
 public:
  virtual ~StepPricer() = default;
  // REQUIRES: step has no reported cost. Thread-safe.
  virtual PricedCost Price(const Step& step, absl::Time occurred_at) const = 0;
};

// What a committed group did to runs (for metrics). Counts are of ledger rows.
struct RunUpdateStats {
  int64_t inherited_at_insert = 0;    // stored already charged to a known root
  int64_t resolved_by_late_root = 0;  // stored earlier, charged now that their root arrived
  int64_t stored_pending = 0;         // stored waiting for their root
  int64_t tag_drift = 0;              // stored (or re-charged) with tags disagreeing with root
};

// Notified by a LedgerStore after each commit. Must be thread-safe.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void OnRunsUpdated(const RunUpdateStats& stats) = 0;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;
  // Commits `items` in one transaction. On OK the result has one Outcome per item, in order.
  // Errors: Unavailable (database unreachable: nothing of the group is stored, or the commit's
  // outcome is unknown; re-sending is safe), Aborted (serialization failure or deadlock: the
  // group may be retried), Internal otherwise.
  virtual absl::StatusOr<std::vector<Outcome>> Commit(
      absl::Span<const IngestItem* const> items) = 0;
};

}  // namespace stepledger::domain::ingest

#endif  // STEPLEDGER_SERVER_DOMAIN_INGEST_LEDGER_PORT_H_
