// PendingTracker: steps waiting for their run's root to learn who pays (status pending), with
// the deadline after which they become unattributed with reason root_never_arrived.
//
// Memory is an accelerator here, PostgreSQL is the record: a pending step is stored and acked
// before it is tracked, and the write path that stores a root also resolves that run's
// pending rows in the same transaction, whichever replica holds them in memory. This tracker
// gives the replica that received the steps an immediate resolution and a timer.
//
// Bounds: at most max_entries steps. When full, Track() drops the entry with the earliest
// deadline from MEMORY ONLY and counts it (evicted_for_capacity): it stays pending in
// PostgreSQL, where the root's arrival or the scheduled sweep of due pending rows settles it.
// It is not expired early, because a root arriving a minute later should still charge it.
//
// Late roots: OnRootArrived() resolves every tracked step of the run, even one past its
// deadline that ExpireDue() has not collected yet: a late charge beats an unattributed one.
//
// Thread safety: all methods may be called concurrently.
#ifndef STEPLEDGER_SERVER_DOMAIN_RUNS_PENDING_TRACKER_H_
#define STEPLEDGER_SERVER_DOMAIN_RUNS_PENDING_TRACKER_H_

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/runs/attribution.h"
#include "server/domain/step.h"

namespace stepledger::domain::runs {

// Stored as the step's unattributed reason when its root never came.
inline constexpr std::string_view kRootNeverArrived = "root_never_arrived";

struct PendingTrackerOptions {
  absl::Duration wait = absl::Minutes(15);  // REQUIRES: >= 0.
  size_t max_entries = 100'000;             // REQUIRES: > 0.
};

struct ResolvedStep {
  Step step;
  Attribution attribution;  // status kInherited (or kComplete if nothing was missing).
};

struct ExpiredStep {
  Step step;
  absl::Time deadline;
  std::string_view reason = kRootNeverArrived;
};

struct PendingTrackerStats {
  size_t pending = 0;
  uint64_t resolved = 0;              // Cumulative.
  uint64_t expired = 0;               // Cumulative: root_never_arrived.
  uint64_t evicted_for_capacity = 0;  // Cumulative: left to PostgreSQL.
};

class PendingTracker {
 public:
  explicit PendingTracker(PendingTrackerOptions options = {});

  PendingTracker(const PendingTracker&) = delete;
  PendingTracker& operator=(const PendingTracker&) = delete;

  // Tracks a stored pending step until received_at + wait.
  // Errors: InvalidArgument when the step is not pending-eligible (no parent_run_id, no
  //   parent_step_id, or nothing to inherit). Tracking the same (run, event_id) again is a
  //   harmless re-send: OK, nothing changes.
  absl::Status Track(Step step, absl::Time received_at);

  // Removes and returns the run's tracked steps, now charged to `root_tags`, in
  // (deadline, event_id) order.
  // REQUIRES: root_tags as for ResolveAttribution() (complete, same run). A step whose
  //   resolution fails stays tracked, to expire as root_never_arrived.
  std::vector<ResolvedStep> OnRootArrived(const std::string& run_id, const Tags& root_tags);

  // Removes and returns every step whose deadline is <= now, in (deadline, run, event) order.
  std::vector<ExpiredStep> ExpireDue(absl::Time now);

  PendingTrackerStats Stats() const;

 private:
  struct Entry {
    Step step;
    absl::Time deadline;
  };
  using Key = std::tuple<absl::Time, std::string, std::string>;  // deadline, run, event

  // REQUIRES: the key is tracked.
  Entry TakeLocked(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PendingTrackerOptions options_;

  mutable absl::Mutex mu_;
  // run_id -> event_id -> entry.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, Entry>> by_run_
      ABSL_GUARDED_BY(mu_);
  std::set<Key> by_deadline_ ABSL_GUARDED_BY(mu_);  // Same entries, earliest first.
  uint64_t resolved_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t expired_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evicted_for_capacity_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stepledger::domain::runs

#endif  // STEPLEDGER_SERVER_DOMAIN_RUNS_PENDING_TRACKER_H_
