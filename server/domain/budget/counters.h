// Spend counters: one per (scope, key, environment, period kind, period start). Every cap on the
// same key, environment and period shares one counter. The engine keeps them only for keys some
// cap watches and for the org (engine.h); storage counts every key, so a cap added mid-period
// starts from the stored spend of its key.
//
// Multi-replica model (see docs/BUDGETS.md): a counter splits its totals into this replica's own
// part (`local_*`, exact: updated as this replica commits steps and makes reservations) and the
// other replicas' part (`others_*`, set by each snapshot to the stored total over every writer
// minus this replica's own part taken just before the read).
//
// Thread safety: none; the engine's mutex serialises access.
// Ownership: the table owns its counters; a Counter* stays valid until Prune() or EraseKey()
// removes it, which they never do while open_reservations > 0 (reservations hold Counter*).
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_COUNTERS_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_COUNTERS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/time/time.h"
#include "server/domain/budget/burn_rate.h"
#include "server/domain/budget/cap.h"
#include "server/domain/step.h"

namespace stepledger::domain::budget {

struct CounterKey {
  Scope scope = Scope::kUnspecified;
  std::string key;
  Environment environment = Environment::kUnspecified;
  Period period = Period::kUnspecified;
  absl::Time period_start;  // PeriodStart(period, t) of any t inside the period.

  friend bool operator==(const CounterKey&, const CounterKey&) = default;
};

// A non-owning view of a CounterKey, so the hot path looks counters up without allocating.
struct CounterKeyRef {
  Scope scope = Scope::kUnspecified;
  std::string_view key;
  Environment environment = Environment::kUnspecified;
  Period period = Period::kUnspecified;
  absl::Time period_start;

  static CounterKeyRef Of(const CounterKey& k) {
    return {k.scope, k.key, k.environment, k.period, k.period_start};
  }
  CounterKey ToKey() const { return {scope, std::string(key), environment, period, period_start}; }
  friend bool operator==(const CounterKeyRef&, const CounterKeyRef&) = default;
};

struct CounterKeyHash {
  using is_transparent = void;
  size_t operator()(const CounterKeyRef& k) const {
    return absl::HashOf(k.scope, k.key, k.environment, k.period, k.period_start);
  }
  size_t operator()(const CounterKey& k) const { return (*this)(CounterKeyRef::Of(k)); }
};

struct CounterKeyEq {
  using is_transparent = void;
  static CounterKeyRef R(const CounterKey& k) { return CounterKeyRef::Of(k); }
  static CounterKeyRef R(const CounterKeyRef& k) { return k; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return R(a) == R(b);
  }
};

struct Counter {
  NanoUsd local_spent = 0;      // Committed by this replica (or loaded for it at start-up).
  NanoUsd others_spent = 0;     // Committed by other replicas, as of the last snapshot.
  NanoUsd local_reserved = 0;   // Held by this replica's open reservations.
  NanoUsd others_reserved = 0;  // Held by other replicas, as of the last snapshot.
  // Held by other replicas' reservations read from the shared reservations table (remote holds
  // in reservations.h; a snapshot's rows never carry them, so a snapshot leaves this alone).
  NanoUsd remote_reserved = 0;
  int32_t open_reservations = 0;  // Own and remote holds.
  BurnRing burn;

  NanoUsd spent() const { return local_spent + others_spent; }
  NanoUsd reserved() const { return local_reserved + others_reserved + remote_reserved; }
};

class CounterTable {
 public:
  Counter* Find(const CounterKeyRef& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : it->second.get();
  }
  const Counter* Find(const CounterKeyRef& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : it->second.get();
  }
  Counter& FindOrCreate(const CounterKeyRef& key);

  // Removes counters of periods that ended at or before `ended_by` and hold no reservation.
  // Returns how many were removed.
  int Prune(absl::Time ended_by);
  // Removes every counter of (scope, key), of any environment and period, that holds no
  // reservation. Returns how many. Walks the table: the caller (a cap deletion) is rare.
  int EraseKey(Scope scope, std::string_view key);

  size_t size() const { return map_.size(); }

  template <typename F>  // F(const CounterKey&, const Counter&)
  void ForEach(F&& f) const {
    for (const auto& [key, counter] : map_) f(key, *counter);
  }

 private:
  // unique_ptr: a Counter is ~1 KiB (its burn ring) and must not move on rehash.
  absl::flat_hash_map<CounterKey, std::unique_ptr<Counter>, CounterKeyHash, CounterKeyEq> map_;
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_COUNTERS_H_
