#include "server/domain/budget/counters.h"

#include "server/domain/budget/period.h"

namespace stepledger::domain::budget {

Counter& CounterTable::FindOrCreate(const CounterKeyRef& key) {
  auto it = map_.find(key);
  if (it != map_.end()) return *it->second;
  return *map_.emplace(key.ToKey(), std::make_unique<Counter>()).first->second;
}

int CounterTable::Prune(absl::Time ended_by) {
  int removed = 0;
  for (auto it = map_.begin(); it != map_.end();) {
    const CounterKey& key = it->first;
    if (it->second->open_reservations == 0 && PeriodEnd(key.period, key.period_start) <= ended_by) {
      map_.erase(it++);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

int CounterTable::EraseKey(Scope scope, std::string_view key) {
  int removed = 0;
  for (auto it = map_.begin(); it != map_.end();) {
    if (it->first.scope == scope && it->first.key == key && it->second->open_reservations == 0) {
      map_.erase(it++);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace stepledger::domain::budget
