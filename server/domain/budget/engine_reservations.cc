// BudgetEngine: the counters a reservation holds, and reservations shared between replicas
// (rows of the shared reservations table, migration 0016). See engine.h and reservations.h.
#include <utility>

#include "server/domain/budget/engine.h"
#include "server/domain/budget/engine_internal.h"

namespace stepledger::domain::budget {

using engine_internal::kPeriods;
using engine_internal::Periods;
using engine_internal::TierKey;
using engine_internal::TierKeys;

HeldCounters BudgetEngine::HeldCountersFor(const Tags& tags, absl::Time at,
                                           const std::array<const KeyCaps*, 4>* entries) {
  const Periods periods(at);
  HeldCounters held;
  const std::array<TierKey, 4> tiers = TierKeys(tags);
  for (size_t t = 0; t < tiers.size(); ++t) {
    if (tiers[t].key.empty()) continue;
    // A check already found the tier's index entry; the exclusive lock is held, so writing to
    // it (the remembered counters) is allowed. A key no cap watches holds nothing: it has no
    // counter (a cap added for it later reads its spend from storage).
    KeyCaps* entry = entries != nullptr ? const_cast<KeyCaps*>((*entries)[t])
                                        : IndexEntry(tiers[t].scope, tiers[t].key);
    if (entry == nullptr && tiers[t].scope != Scope::kOrg) continue;
    for (Period p : kPeriods) {
      held.push_back(&CounterFor(
          {tiers[t].scope, tiers[t].key, tags.environment, p, periods.start(p)}, entry));
    }
  }
  return held;
}

std::optional<SharedReservation> BudgetEngine::OwnOpenReservation(std::string_view key,
                                                                  std::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  const Reservation* r = reservations_.FindOpen(key);
  if (r == nullptr || r->remote || r->id != id) return std::nullopt;
  SharedReservation row;
  row.key = r->step_id;
  row.id = r->id;
  row.owner = instance_id_;
  row.amount = r->amount;
  row.created_at = r->created_at;
  row.expires_at = r->expires_at;
  return row;
}

void BudgetEngine::ApplySharedReservations(absl::Span<const SharedReservation> rows) {
  if (rows.empty()) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  for (const SharedReservation& row : rows) {
    const Reservation* held = reservations_.FindOpen(row.key);
    if (row.settled) {
      // The step is stored, on whichever replica, and its spend is in the counters read
      // before these rows were applied (the coordinator reads the rows first and applies
      // them last), so releasing the hold never leaves a moment with neither.
      if (held != nullptr) {
        if (!held->remote) ++reservations_settled_;
        reservations_.Settle(row.key, now, options_.reservation_ttl);
      } else {
        reservations_.MarkSettled(row.key, now + options_.reservation_ttl);
      }
      continue;
    }
    if (row.owner == instance_id_) continue;  // this replica's memory is ahead of the table
    if (held != nullptr && held->remote && held->id == row.id) continue;  // held already
    // A newer check of this replica for the same step replaces the other replica's; its row
    // overwrites the other's on the next flush.
    if (held != nullptr && !held->remote && held->created_at > row.created_at) continue;
    if (row.expires_at <= now || reservations_.WasSettled(row.key)) {
      if (held != nullptr && held->remote) reservations_.Cancel(row.key);
      continue;
    }
    reservations_.Cancel(row.key);  // this replica's own, retried on another replica
    reservations_.AddRemote(row.key, row.id, row.amount, row.created_at, row.expires_at,
                            HeldCountersFor(row.tags, row.created_at));
  }
}

}  // namespace stepledger::domain::budget
