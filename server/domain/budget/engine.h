// BudgetEngine: the in-memory half of budgets. It holds the caps, the spend counters, the open
// reservations and the acknowledgements, and answers CheckBudget in about a microsecond.
// PostgreSQL (storage/) is the system of record: it feeds the engine through the recovery and
// refresh methods below and persists what the engine exports; gRPC (transport/) converts
// requests. The decision rules are in decision.h; docs/BUDGETS.md is the operator's view.
//
// Matching: a check's tags select the caps whose scope key equals the tag (feature, team,
// tenant) plus the org cap "*", restricted to the check's environment. Caps are indexed by
// (scope, key), so a check touches only its own caps, however many exist.
//
// Counters: RecordSpend charges a committed step to the counters of its feature, team and
// tenant that some cap watches (any cap on the key, whatever its environment or period) and to
// the org's, which always exist, for both period kinds of the period the step occurred in
// (counters.h). Keys no cap watches get no counter: memory, ExportLocalCounters and a snapshot's
// cost depend on the number of caps, never on the number of tenants (or features, teams) ever
// seen. Every key's spend is in PostgreSQL (writers count every key), so a cap added for a new
// key starts with no counter and the refresh reads the key's counters from storage, all
// replicas' committed spend together, as other replicas' spend (ApplyFullSnapshot with no own
// part yet); this replica's later commits are its own part from then on. When the last cap on
// a key goes, its counters go with it (unless a reservation still holds one).
//
// Reservations (reservations.h): a check with reserve=true that is not REQUIRE_ACK holds its
// estimate on the counters of its tags (those of watched keys and the org's, 2 periods each:
// at most 8) until RecordSpend settles it by step_id or the TTL (default 10 min) passes and
// ExpireReservations() releases it. A second reserving check for a step_id with an open
// reservation replaces it (a retried check never holds twice). Expired reservations keep
// holding until the next ExpireReservations(), which errs on the safe side; the app runs it
// every second. A cap added for a key does not see the holds made before it (they held nothing
// on the unwatched key): for at most one TTL, its reserved amount is too low by those.
//
// Multi-replica refresh, staleness and overshoot:
//   Each replica commits, in the transaction that stores a batch of steps, the batch's deltas
//   to its own rows of a shared counters table (one row per replica and counter, so replicas
//   never contend on a hot row such as the org counter), and every refresh interval R (default
//   1 s) reads the sums of every replica's rows into ApplyFullSnapshot(), which subtracts this
//   replica's own totals taken just before the read (ExportLocalCounters). Own spend lives in
//   Counter::local_*, other replicas' in Counter::others_*, replaced by each snapshot for the
//   counters it names: the snapshot can only over-count, by own commits made during the read,
//   until the next refresh.
//   Staleness: a check sees this replica's commits and reservations at once, and other
//   replicas' as of at most S = R + one refresh round trip (the snapshot's as_of).
//   Overshoot: committed spend on a REQUIRE_ACK cap can exceed limit + acknowledged headroom by
//   at most
//     (a) the sum over admitted reserved steps of (actual cost - estimate), when positive;
//     (b) the cost of steps charged to the cap that never made a reserving check, or that
//         committed after their reservation expired (the engine cannot hold what it never saw);
//     (c) with N replicas, what the other N-1 replicas admitted against the cap during one
//         staleness window S, i.e. at most (N-1) x (the cap's admitted spend rate per replica
//         x S). With one replica (c) is zero, and with estimates >= actual costs and every step
//         reserving, committed spend never passes the limit without an acknowledgement.
//   Acknowledgement headroom is consumed on each replica from its own commits and from
//   snapshot growth, so every replica converges on the same consumption within S.
//
// Thread safety: all methods may be called from any thread. One absl::Mutex guards all state:
// Check without reserve takes it shared (many gRPC threads in parallel); Check with reserve,
// RecordSpend and the rest take it exclusive. The critical sections are a few hash lookups
// (sub-microsecond), and a reserving check must see and update all its counters atomically
// (including the org counter every check touches), so sharding would add lock-ordering
// without removing the hot spot. A refresh's snapshot (ApplyFullSnapshot) compares its rows under
// the shared lock and takes the exclusive lock only for the rows that changed, so re-reading 10,000
// unchanged rows every second does not stop checks. Time: the engine never reads time except
// through the Clock it is handed.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_ENGINE_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_ENGINE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "server/domain/budget/acknowledgements.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/check.h"
#include "server/domain/budget/counters.h"
#include "server/domain/budget/reservations.h"
#include "server/domain/clock.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

struct EngineOptions {
  absl::Duration reservation_ttl = kDefaultReservationTtl;
  // Prefix of reservation and acknowledgement ids; unique per replica lifetime. Empty: random.
  std::string instance_id;
  // A check whose counters were last read from storage (MarkCountersCurrent) longer ago than
  // this, or never, is stale: each cap's stale policy applies (cap.h). Infinite: never stale,
  // for an engine that no storage feeds (what-if, benchmarks); the collector passes
  // --budget-stale-after.
  absl::Duration stale_after = absl::InfiniteDuration();
};

// A counter's totals, exchanged with storage.
struct CounterTotals {
  CounterKey key;
  NanoUsd spent = 0;
  NanoUsd reserved = 0;
};

// Totals over every replica, as of one read of the shared counters table. Rows are
// authoritative for the counters they name; counters not named keep their last values.
struct SharedSnapshot {
  absl::Time as_of;
  std::vector<CounterTotals> rows;
};

enum class SpendOutcome {
  kCounted,            // Charged; the step had no open reservation.
  kCountedAndSettled,  // Charged, and its reservation released.
  kDuplicateSettle,    // Its reservation was already settled: ignored, nothing charged.
};

struct EngineStats {
  size_t caps = 0;
  size_t counters = 0;
  size_t open_reservations = 0;
  int64_t reservations_made = 0;
  int64_t reservations_settled = 0;
  int64_t reservations_expired = 0;
  int64_t duplicate_settles = 0;
  size_t acknowledgements = 0;
  size_t remote_reservations = 0;  // Other replicas' holds on this replica's counters.
};

// One cap's committed spend in its current period, read from its counter (no check is
// evaluated): what the per-cap metrics export on every refresh.
struct CapSpend {
  std::shared_ptr<const Cap> cap;
  NanoUsd spent = 0;      // All replicas, as Check's CapStatus::spent.
  absl::Time period_end;  // Exclusive.
};

class BudgetEngine {
 public:
  // REQUIRES: `clock` outlives the engine.
  explicit BudgetEngine(const Clock& clock, EngineOptions options = {});
  BudgetEngine(const BudgetEngine&) = delete;
  BudgetEngine& operator=(const BudgetEngine&) = delete;

  // --- Caps (PutBudget / ListBudgets / DeleteBudget) ---
  // Applies tier defaults, validates, and inserts or replaces the cap with the same id.
  // Returns the cap as stored.
  absl::StatusOr<Cap> UpsertCap(Cap cap);
  absl::Status DeleteCap(std::string_view cap_id);  // NotFound when absent.
  std::vector<Cap> ListCaps() const;                // Sorted by id.
  std::optional<Cap> GetCap(std::string_view cap_id) const;
  // Every cap, unordered, sharing the engine's immutable caps (no copies): for the refresh,
  // which compares 10,000 stored caps with these every second.
  std::vector<std::shared_ptr<const Cap>> CapSnapshot() const;
  // Every cap with its spend in the period containing `now`, unordered. One shared lock and one
  // counter lookup per cap (no copies of caps, no sorting, no check), so a refresh of 10,000
  // caps' gauges costs about a millisecond.
  std::vector<CapSpend> SpendPerCap(absl::Time now) const;

  // --- CheckBudget ---
  // InvalidArgument (naming the field) for a malformed request; AlreadyExists when reserving
  // for a step_id whose reservation was already settled.
  absl::StatusOr<CheckResult> Check(const CheckRequest& request);

  // --- Committed spend (the writer, after the transaction commits) ---
  // Charges `cost` to the counters of `charged` (its environment, and its feature, team and
  // tenant where not empty; org always) in the period containing `occurred_at`, and settles the
  // step's reservation. REQUIRES: called once per committed step; the ledger's idempotency key
  // is the guard, and a repeat after a settled reservation is recognised (kDuplicateSettle).
  absl::StatusOr<SpendOutcome> RecordSpend(const Tags& charged, NanoUsd cost,
                                           absl::Time occurred_at, std::string_view step_id);

  // Releases reservations whose TTL has passed; returns how many (also in Stats()).
  int ExpireReservations(absl::Time now);

  // --- Reservations shared between replicas (engine_reservations.cc) ---
  // This replica's open reservation of `key` with id `id`, as a row to share (tags left empty:
  // the caller knows them); nullopt when it is no longer open (settled, expired, replaced).
  std::optional<SharedReservation> OwnOpenReservation(std::string_view key,
                                                      std::string_view id) const;
  // Applies rows read from the shared table (any replica's). A settled row settles the key's
  // open hold, own or remote, and keeps a tombstone (a reserving check for it is then
  // ALREADY_EXISTS here too). An open row of another replica, unexpired, replaces the key's
  // hold with a remote one on the watched counters of its tags (unless this replica holds a
  // newer reservation of its own for the key). Rows of this replica are otherwise ignored: its
  // memory is ahead of the table.
  void ApplySharedReservations(absl::Span<const SharedReservation> rows);
  const std::string& instance_id() const { return instance_id_; }

  // --- Acknowledgements (made and validated by BudgetCoordinator::Acknowledge) ---
  // A new acknowledgement, or one read back from storage; replaces one with the same id.
  absl::Status LoadAcknowledgement(Acknowledgement ack);
  // The audit trail of one cap, oldest first; an empty cap_id lists every acknowledgement.
  std::vector<Acknowledgement> ListAcknowledgements(std::string_view cap_id) const;

  // --- Recovery and replication ---
  // Sets the other replicas' part of the counters `totals` names: `totals` sums every replica,
  // this one included, and `local_baseline` is ExportLocalCounters() taken just before the
  // totals were read. Other replicas' part is totals - baseline (never negative). Rows of keys
  // no cap watches (other than the org's) are ignored: they create no counter. Aborted (and
  // nothing applied) when as_of is older than the last applied snapshot's: a slow refresh must
  // not roll counters back.
  // Since this replica charges a step only after its transaction commits, everything in the
  // baseline is in the totals, so nothing is missed; own commits made during the read are in
  // both until the next refresh, which errs on the safe side (over-counts, never under).
  absl::Status ApplyFullSnapshot(const SharedSnapshot& totals,
                                 absl::Span<const CounterTotals> local_baseline)
      ABSL_LOCKS_EXCLUDED(mu_, apply_mu_);
  // Records that every watched counter now holds all replicas' spend as of `as_of` (a refresh's
  // complete read was applied; a read of a few series is not one). Checks report their age
  // from it and turn stale past options.stale_after. An older as_of than the one recorded is
  // ignored.
  void MarkCountersCurrent(absl::Time as_of);
  std::optional<absl::Time> CountersAsOf() const;
  // This replica's own non-zero totals (the baseline of ApplyFullSnapshot): one per counter of
  // a watched key, so its size is bounded by the caps.
  std::vector<CounterTotals> ExportLocalCounters() const;
  // Drops counters of periods that ended at or before `ended_by` (keep a grace period for late
  // events: the coordinator passes now - 1 day on every refresh). Returns how many.
  int PruneClosedPeriods(absl::Time ended_by);

  EngineStats Stats() const;

 private:
  // The caps on one key. Inline: most keys carry one or two caps (say daily and monthly), and
  // keeping them in the hash slot saves a dependent cache miss per tier on the check path.
  struct KeyCaps {
    // A counter of this key remembered in its index entry (see `current`).
    struct CounterSlot {
      Counter* counter = nullptr;  // Null: none remembered; look it up in counters_.
      Environment environment = Environment::kUnspecified;
      absl::Time period_start;
    };

    absl::InlinedVector<std::shared_ptr<const Cap>, 2> caps;
    // Bit PeriodBit(p) is set when some cap here has period p: a check looks up only the
    // counters of those periods (spend is counted for both, caps mostly watch one).
    uint8_t periods = 0;
    // The newest counter of each period (indexed like kPeriods) that the engine created or
    // found for this key, in the environment it was for. A check whose environment and period
    // start match reads it from here and skips the counter table's hashing and probing (a
    // check's dependent cache misses); any other check looks the counter up. Written only under
    // the exclusive lock (CounterFor), cleared for every period PruneClosedPeriods may remove,
    // so a remembered Counter* is always alive.
    std::array<CounterSlot, 2> current;
  };
  // Indexed by Scope; within a scope by key.
  using CapIndex = std::array<absl::flat_hash_map<std::string, KeyCaps>, 5>;

  // `entries`, when given, receives each tier's index entry (nullptr: no cap on its key),
  // indexed like TierKeys(request.tags).
  void Evaluate(const CheckRequest& request, absl::Time now, CheckResult& result,
                std::array<const KeyCaps*, 4>* entries = nullptr) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Charges spend growth on one counter against the acknowledgements of the caps watching it.
  // `entry` is the key's index entry (nullptr: no cap watches the key, nothing to consume).
  void ConsumeHeadroom(const CounterKeyRef& key, const KeyCaps* entry, NanoUsd before,
                       NanoUsd after, absl::Time at) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveFromIndex(const Cap& cap) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The index entry of (scope, key); nullptr when no cap watches the key.
  KeyCaps* IndexEntry(Scope scope, std::string_view key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // counters_.FindOrCreate(key), remembered in `entry` (key's index entry, or nullptr when no
  // cap watches it). Every path that creates or finds a counter for writing goes through here;
  // callers that write several counters of one key look the entry up once.
  Counter& CounterFor(const CounterKeyRef& key, KeyCaps* entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether (scope, key) may have counters: some cap watches it, or it is the org.
  bool Watched(Scope scope, std::string_view key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Removes the counters of a key that lost its last cap (those no reservation holds).
  void DropCountersOf(Scope scope, std::string_view key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The counters a reservation for `tags` made at `at` holds: both periods of each watched
  // tier key and of the org. `entries`: the tiers' index entries when the caller has them.
  HeldCounters HeldCountersFor(const Tags& tags, absl::Time at,
                               const std::array<const KeyCaps*, 4>* entries = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const EngineOptions options_;
  const std::string instance_id_;

  // Serialises ApplyFullSnapshot (taken before mu_): it compares rows under mu_ shared, then writes
  // the differing ones under mu_ exclusive, and no other snapshot may write in between.
  absl::Mutex apply_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<const Cap>> caps_ ABSL_GUARDED_BY(mu_);
  CapIndex index_ ABSL_GUARDED_BY(mu_);
  CounterTable counters_ ABSL_GUARDED_BY(mu_);
  ReservationBook reservations_ ABSL_GUARDED_BY(mu_);
  AcknowledgementBook acks_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> last_snapshot_as_of_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> counters_as_of_ ABSL_GUARDED_BY(mu_);
  int64_t reservations_made_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reservations_settled_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t reservations_expired_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t duplicate_settles_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_ENGINE_H_
