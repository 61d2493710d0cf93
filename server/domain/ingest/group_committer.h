// GroupCommitter: the write path's engine. Streams hand it validated batches; writer threads
// (one per LedgerStore, i.e. per database connection) take several batches at once, commit them
// in one transaction, then call every batch's completion with its slice of the outcomes.
//
// Why groups: a transaction's fixed cost (round trips, WAL flush at COMMIT) is paid once for
// thousands of events instead of once per batch.
//
// Memory bound: events and their bytes (ApproximateBytes: strings and quarantine payloads) are
// counted from Submit() until their completion has run; Submit() refuses with
// ResourceExhausted when max_queued_events or max_queued_bytes would be exceeded, so nothing is
// buffered without limit. Callers (streams) also cap their own in-flight batches.
//
// Run affinity: with several writers, each run (parent_run_id) belongs to one writer; a batch
// is split by run and its completion runs once every part is committed (or fails with the
// first error: a client then re-sends the batch and the committed part counts as duplicates).
// Two writers then never update the same `runs` row at once, so they never wait on each
// other's row locks, and a run's root and its children are never committed concurrently by
// two transactions that cannot see each other (which would leave children pending).
//
// Isolation: a group that fails for any reason but Unavailable is retried batch by batch, so a
// batch whose rows the database refuses fails alone and never costs another stream an error.
//
// Thread safety: Submit(), QueuedEvents() and Stop() may be called from any thread.
// Completions run on a writer thread; they must not block (hand work off instead).
// Ordering: batches may complete out of submission order (several writers).
#ifndef STEPLEDGER_SERVER_DOMAIN_INGEST_GROUP_COMMITTER_H_
#define STEPLEDGER_SERVER_DOMAIN_INGEST_GROUP_COMMITTER_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/ingest/ledger_port.h"

namespace stepledger::domain::ingest {

// Notified after every group; used for metrics and to feed in-memory views (budget counters,
// open runs) with what is now durable. Called on writer threads; must be thread-safe.
class CommitObserver {
 public:
  virtual ~CommitObserver() = default;
  virtual void OnGroupCommitted(absl::Span<const IngestItem* const> items,
                                absl::Span<const Outcome> outcomes, absl::Duration latency) = 0;
  virtual void OnGroupFailed(const absl::Status& status, size_t events) = 0;
};

class GroupCommitter {
 public:
  struct Options {
    size_t max_queued_events = 100'000;  // queued + being committed, across all streams
    size_t max_queued_bytes = size_t{256} * 1024 * 1024;  // the same events' bytes
    size_t max_group_events = 10'000;                     // upper bound on one transaction's size
    int max_attempts = 3;  // for Aborted (deadlock / serialization failure)
  };
  using Done = absl::AnyInvocable<void(absl::StatusOr<std::vector<Outcome>>) &&>;

  // REQUIRES: stores is non-empty. `observer` may be null; it must outlive this object.
  GroupCommitter(std::vector<std::unique_ptr<LedgerStore>> stores, Options options,
                 CommitObserver* observer);
  ~GroupCommitter();  // Stop()s.

  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues a batch. On OK, `done` will be called exactly once, after the batch's group
  // committed (with one Outcome per item) or failed (with the error). On error `done` is not
  // called: ResourceExhausted (queue full), Unavailable (stopping).
  absl::Status Submit(std::vector<IngestItem> items, Done done);

  // Stops taking batches, commits everything already queued, joins the writers. Idempotent.
  void Stop();

  size_t QueuedEvents() const;

 private:
  struct Pending {
    // The submitted batch. A batch split across writers is shared by its parts, so that no
    // item is moved again (an item is over 1 KB) and it is freed once every part is done.
    std::shared_ptr<const std::vector<IngestItem>> batch;
    std::vector<const IngestItem*> items;  // this part's items, in batch order
    Done done;
    size_t bytes = 0;  // ApproximateBytes of items, counted in queued_bytes_
  };

  // Which writer's queue an item goes to.
  size_t WriterFor(const IngestItem& item) const;
  // One part per writer (empty for writers with no items); `done` runs once all parts are done.
  std::vector<Pending> SplitByWriter(std::vector<IngestItem> items, Done done) const;
  void WriterLoop(size_t writer);
  // Commits the group in one transaction, retrying Aborted; if it fails otherwise, retries
  // each batch alone (see the .cc for why), then completes every batch.
  void CommitGroup(LedgerStore* store, std::vector<Pending>& group);
  // One transaction over every item of `group` (with retries on Aborted), observed.
  absl::StatusOr<std::vector<Outcome>> CommitItems(LedgerStore* store,
                                                   const std::vector<Pending>& group);
  // Calls every batch's completion with its slice of `result` (or its error).
  static void Complete(std::vector<Pending>& group,
                       const absl::StatusOr<std::vector<Outcome>>& result);

  const Options options_;
  CommitObserver* const observer_;
  std::vector<std::unique_ptr<LedgerStore>> stores_;
  std::vector<std::thread> writers_;

  mutable absl::Mutex mu_;
  std::vector<std::deque<Pending>> queues_ ABSL_GUARDED_BY(mu_);  // one per writer
  size_t queued_events_ ABSL_GUARDED_BY(mu_) = 0;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace stepledger::domain::ingest

#endif  // STEPLEDGER_SERVER_DOMAIN_INGEST_GROUP_COMMITTER_H_
