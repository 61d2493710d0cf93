// TopSpenders: which keys of an unbounded, client-chosen set (tenants) hold one of N series
// slots: the largest recent spenders, re-chosen every `rechoose_interval`, never "first seen"
// (a client cannot take a slot for good by showing up first with a cent of spend).
//
// Ranking: a Space-Saving sketch (Metwally, Agrawal, El Abbadi 2005) of spend per key keeps at
// most `tracked` keys. A key that is not tracked replaces the one with the smallest count and
// starts from that count, an overestimate by at most the smallest count, so any key with more
// than 1/tracked of the spend is always tracked. At every re-choice each count is halved, so
// the ranking follows recent spend (half-life: one interval) and a key that stopped spending
// loses its slot to one that spends now.
//
// Slots: while fewer than N keys hold a slot, a key with spend takes one at once (a small
// deployment sees every tenant immediately). At each re-choice the N tracked keys with the
// largest counts hold the slots until the next re-choice; Rechoose() reports who gained and
// who lost one, so the caller can create and remove series.
//
// Memory bound: at most `tracked` keys (each a validated tag value, at most 128 bytes for a
// tenant) and N slots, whatever clients send. Cost: O(log tracked) per Add.
//
// Thread safety: not thread-safe; the owner serializes all calls.
#ifndef STEPLEDGER_SERVER_METRICS_TOP_SPENDERS_H_
#define STEPLEDGER_SERVER_METRICS_TOP_SPENDERS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"

namespace stepledger::metrics {

class TopSpenders {
 public:
  struct Options {
    size_t slots = 50;
    // Keys the sketch tracks; 0 means 4 x slots, at least 64. Never below `slots`.
    size_t tracked = 0;
    absl::Duration rechoose_interval = absl::Minutes(1);
  };

  struct Rechoice {
    std::vector<std::string> promoted;  // hold a slot now, did not before
    std::vector<std::string> demoted;   // held a slot before, do not now
  };

  // REQUIRES: `clock` outlives this object.
  TopSpenders(Options options, const domain::Clock& clock);

  // Counts `amount` (> 0; anything else is ignored) of spend for `key`. Returns whether `key`
  // holds a slot afterwards (it may take a free one).
  bool Add(absl::string_view key, int64_t amount);

  bool HasSlot(absl::string_view key) const { return slotted_.contains(key); }

  // Re-chooses the slots if the interval has passed since the last re-choice (or since
  // construction); returns what changed then, nullopt otherwise.
  std::optional<Rechoice> MaybeRechoose();

  size_t tracked_keys() const { return counts_.size(); }
  size_t slots() const { return options_.slots; }

 private:
  Rechoice Rechoose();

  const Options options_;
  const size_t tracked_limit_;
  const domain::Clock& clock_;
  absl::Time last_rechoice_;
  // The sketch: key -> count, and the same pairs ordered by count (smallest first).
  absl::flat_hash_map<std::string, int64_t> counts_;
  std::set<std::pair<int64_t, std::string>> by_count_;
  absl::flat_hash_set<std::string> slotted_;
};

}  // namespace stepledger::metrics

#endif  // STEPLEDGER_SERVER_METRICS_TOP_SPENDERS_H_
