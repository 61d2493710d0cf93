// OpenRunCache: a bounded in-memory view of the runs still receiving steps, so the write path
// can charge a child at once when its run's root is already known.
//
// It is a cache, never the record: the runs table in PostgreSQL holds everything that must
// survive eviction or a restart. A miss means "ask PostgreSQL" (then RememberRoot()), never
// "the root does not exist".
//
// Bounds: at most max_runs entries; an entry idle (no step observed) for longer than ttl is
// gone. When full, the least recently observed run is evicted. Evictions by size and by TTL
// are counted (cumulative, for a metric).
//
// Recency is the time of the last observed step, and lookups do not refresh it: one list is
// then ordered both for LRU and for TTL, so expiry costs O(expired). Lookups by the write path
// come with a step anyway, which Observe() refreshes.
//
// Thread safety: all methods may be called concurrently. The clock must outlive the cache.
#ifndef STEPLEDGER_SERVER_DOMAIN_RUNS_OPEN_RUN_CACHE_H_
#define STEPLEDGER_SERVER_DOMAIN_RUNS_OPEN_RUN_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"
#include "server/domain/step.h"

namespace stepledger::domain::runs {

struct OpenRunCacheOptions {
  size_t max_runs = 100'000;               // REQUIRES: > 0.
  absl::Duration ttl = absl::Minutes(30);  // REQUIRES: > 0.
};

struct OpenRun {
  std::string run_id;
  std::optional<Tags> root_tags;  // Charged tags of the root; nullopt until it is known.
  std::string root_step_id;
  int64_t steps_observed = 0;  // Since this entry was (re)created; the runs table has the truth.
  absl::Time first_seen;
  absl::Time last_seen;
};

struct OpenRunCacheStats {
  size_t open_runs = 0;
  uint64_t evicted_by_size = 0;
  uint64_t evicted_by_ttl = 0;
  uint64_t evictions() const { return evicted_by_size + evicted_by_ttl; }
};

class OpenRunCache {
 public:
  OpenRunCache(const Clock& clock, OpenRunCacheOptions options);

  OpenRunCache(const OpenRunCache&) = delete;
  OpenRunCache& operator=(const OpenRunCache&) = delete;

  // Counts one newly stored step of its run and refreshes the run's recency. When the step is
  // the run's root (empty parent_step_id), remembers `charged_tags` as the root tags.
  // Steps without parent_run_id belong to no run and are ignored.
  // REQUIRES: called once per stored event (not for duplicates a client re-sent).
  void Observe(const Step& step, const Tags& charged_tags);

  // Remembers a root found elsewhere (PostgreSQL after a miss or a restart). Does not count a
  // step. The first root remembered for a run is kept; a second root is a multiple_roots
  // anomaly that AssembleRun() reports.
  void RememberRoot(const std::string& run_id, const std::string& root_step_id,
                    const Tags& root_tags);

  // nullopt when absent or idle past the TTL (then it is dropped and counted).
  std::optional<OpenRun> Find(const std::string& run_id);
  std::optional<Tags> FindRootTags(const std::string& run_id);

  // Drops every run idle past the TTL; returns how many. Call periodically so idle runs do not
  // hold memory until the size cap pushes them out.
  size_t ExpireIdle();

  OpenRunCacheStats Stats() const;

 private:
  using Lru = std::list<OpenRun>;  // Front: most recently observed.

  // Creates or refreshes the entry, evicting by TTL and size as needed.
  OpenRun& TouchLocked(const std::string& run_id, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IdleLocked(const OpenRun& run, absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  const OpenRunCacheOptions options_;

  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
  uint64_t evicted_by_size_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evicted_by_ttl_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_SERVER_DOMAIN_RUNS_OPEN_RUN_CACHE_H_
