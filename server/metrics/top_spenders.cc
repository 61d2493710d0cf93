#include "server/metrics/top_spenders.h"

#include <algorithm>

namespace stepledger::metrics {
namespace {

size_t TrackedLimit(const TopSpenders::Options& o) {
  const size_t wanted = o.tracked == 0 ? std::max<size_t>(4 * o.slots, 64) : o.tracked;
  return std::max(wanted, o.slots);
}

}  // namespace

TopSpenders::TopSpenders(Options options, const domain::Clock& clock)
    : options_(options),
      tracked_limit_(TrackedLimit(options)),
      clock_(clock),
      last_rechoice_(clock.Now()) {}

bool TopSpenders::Add(absl::string_view key, int64_t amount) {
  if (amount <= 0 || tracked_limit_ == 0) return HasSlot(key);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    int64_t start = 0;
    if (counts_.size() >= tracked_limit_) {
      // Space-Saving: the newcomer replaces the smallest tracked key and inherits its count.
      // A key holding a slot is never evicted here (only a re-choice takes slots away); there
      // is always another to evict, because tracked_limit_ >= slots and the key is new.
      auto victim = by_count_.begin();
      while (victim != by_count_.end() && slotted_.contains(victim->second)) ++victim;
      if (victim == by_count_.end()) return false;  // every tracked key holds a slot
      start = victim->first;
      counts_.erase(victim->second);
      by_count_.erase(victim);
    }
    it = counts_.emplace(std::string(key), start).first;
  } else {
    by_count_.erase({it->second, it->first});
  }
  it->second += amount;
  by_count_.emplace(it->second, it->first);
  if (!slotted_.contains(key) && slotted_.size() < options_.slots) slotted_.insert(it->first);
  return slotted_.contains(key);
}

std::optional<TopSpenders::Rechoice> TopSpenders::MaybeRechoose() {
  const absl::Time now = clock_.Now();
  if (now - last_rechoice_ < options_.rechoose_interval) return std::nullopt;
  last_rechoice_ = now;
  return Rechoose();
}

TopSpenders::Rechoice TopSpenders::Rechoose() {
  absl::flat_hash_set<std::string> chosen;
  for (auto it = by_count_.rbegin(); it != by_count_.rend() && chosen.size() < options_.slots;
       ++it) {
    chosen.insert(it->second);
  }
  Rechoice change;
  for (const std::string& key : chosen) {
    if (!slotted_.contains(key)) change.promoted.push_back(key);
  }
  for (const std::string& key : slotted_) {
    if (!chosen.contains(key)) change.demoted.push_back(key);
  }
  std::sort(change.promoted.begin(), change.promoted.end());
  std::sort(change.demoted.begin(), change.demoted.end());
  slotted_ = std::move(chosen);

  // Halve every count so that the next ranking weighs recent spend; keys at zero are dropped.
  std::set<std::pair<int64_t, std::string>> halved;
  for (auto it = counts_.begin(); it != counts_.end();) {
    it->second /= 2;
    if (it->second == 0 && !slotted_.contains(it->first)) {
      counts_.erase(it++);
      continue;
    }
    halved.emplace(it->second, it->first);
    ++it;
  }
  by_count_ = std::move(halved);
  return change;
}

}  // namespace stepledger::metrics
