// Reservations: a CheckBudget with reserve=true holds its estimate on every counter the step
// will be charged to, so that parallel branches of one agent see each other's estimates and
// cannot all slip under a cap at once. A reservation ends in exactly one of two ways:
//   - settled: the step's event commits (RecordSpend with its step_id); the hold is released and
//     the actual cost is counted instead. A second settle for the same step_id is a no-op, for
//     as long as the tombstone lives (one TTL after the settle);
//   - expired: its TTL passed before the step committed; the hold is released and counted as
//     expired. A step that commits later is simply counted as spend.
// A remote reservation is another replica's, read from the shared reservations table: it holds
// its amount on this replica's counters (Counter::remote_reserved) until the table says it was
// settled or replaced, or its expiry passes here. It is never written back by this replica.
//
// Invariants:
//   - at most one open reservation (own or remote) per step_id;
//   - for every counter c: c.local_reserved == sum of amount over open own reservations holding
//     c, c.remote_reserved the same over remote ones, and c.open_reservations == their number.
// Thread safety: none; the engine's mutex serialises access.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATIONS_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATIONS_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "server/domain/budget/counters.h"
#include "server/domain/budget/string_key.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

inline constexpr absl::Duration kDefaultReservationTtl = absl::Minutes(10);

// Up to 4 tiers x 2 period kinds.
using HeldCounters = absl::InlinedVector<Counter*, 8>;

struct Reservation {
  std::string id;
  std::string step_id;
  NanoUsd amount = 0;
  absl::Time created_at;
  absl::Time expires_at;
  HeldCounters counters;
  bool remote = false;  // Another replica's (see above).
};

// A reservation as every replica sees it in the shared reservations table (migration 0016).
struct SharedReservation {
  std::string key;  // BudgetCoordinator::ReservationKey(run, step): the step_id above.
  std::string parent_run_id;
  std::string step_id;
  std::string id;
  std::string owner;  // The instance id of the replica that made it.
  NanoUsd amount = 0;
  Tags tags;              // Environment, feature, team and tenant: which counters it holds.
  absl::Time created_at;  // The check's time: the periods it holds.
  absl::Time expires_at;
  bool settled = false;  // Its step was stored, on whichever replica.
};

class ReservationBook {
 public:
  enum class SettleResult { kNoReservation, kSettled, kAlreadySettled };

  // `id_prefix` makes ids unique across replicas and restarts ("rsv-<prefix>-<seq>").
  explicit ReservationBook(std::string id_prefix) : id_prefix_(std::move(id_prefix)) {}

  // Holds `amount` on each of `counters` until `now + ttl`. Returns the new reservation.
  // REQUIRES: no open reservation for step_id; amount >= 0; counters distinct and non-null.
  const Reservation& Add(std::string_view step_id, NanoUsd amount, absl::Time now,
                         absl::Duration ttl, HeldCounters counters);

  // Holds another replica's reservation `id` of `amount` on `counters` until expires_at.
  // REQUIRES: as Add.
  void AddRemote(std::string_view step_id, std::string_view id, NanoUsd amount,
                 absl::Time created_at, absl::Time expires_at, HeldCounters counters);

  // The open reservation (own or remote) of step_id, or null. Valid until the next change.
  const Reservation* FindOpen(std::string_view step_id) const;

  // Releases the open reservation of step_id without a tombstone (the client re-checked).
  bool Cancel(std::string_view step_id);

  // Remembers until `until` that step_id's step committed (on another replica), so that a
  // reserving check for it is refused here too.
  void MarkSettled(std::string_view step_id, absl::Time until);

  // Releases step_id's reservation because its step committed, and remembers that until
  // now + ttl so that a repeat is recognised.
  SettleResult Settle(std::string_view step_id, absl::Time now, absl::Duration ttl);

  bool IsOpen(std::string_view step_id) const { return open_.contains(AbslView(step_id)); }
  bool WasSettled(std::string_view step_id) const { return settled_.contains(AbslView(step_id)); }

  // Releases every reservation whose expiry is at or before now, forgets tombstones past their
  // time. Returns the number of own reservations expired (remote ones are released silently:
  // their owner counts them).
  int Expire(absl::Time now);

  size_t open_count() const { return open_.size() - remote_count_; }  // Own only.
  size_t remote_count() const { return remote_count_; }

 private:
  static void Release(const Reservation& r);

  std::string id_prefix_;
  uint64_t next_seq_ = 1;
  size_t remote_count_ = 0;
  // unique_ptr: expiry_ points at reservations, which must not move on rehash.
  absl::flat_hash_map<std::string, std::unique_ptr<Reservation>> open_;  // By step_id.
  absl::btree_set<std::pair<absl::Time, const Reservation*>> expiry_;
  absl::flat_hash_map<std::string, absl::Time> settled_;  // step_id -> tombstone end.
  // Tombstones in settle order; with a monotone clock their ends are non-decreasing.
  std::deque<std::pair<absl::Time, std::string>> settled_order_;
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATIONS_H_
