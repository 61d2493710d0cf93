#include "server/domain/ingest/group_committer.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace stepledger::domain::ingest {

namespace {

// Completes a batch that was split across writers: collects each part's outcomes at the items'
// original positions and calls the batch's completion when the last part is done.
class SplitBatch {
 public:
  SplitBatch(size_t items, size_t parts, GroupCommitter::Done done)
      : outcomes_(items), remaining_(parts), done_(std::move(done)) {}

  void PartDone(const std::vector<size_t>& positions, absl::StatusOr<std::vector<Outcome>> r) {
    GroupCommitter::Done done;
    absl::StatusOr<std::vector<Outcome>> result;
    {
      absl::MutexLock lock(&mu_);
      if (r.ok() && r->size() != positions.size()) {
        // Never fill the gap with a default outcome: that would ack events nobody stored.
        r = absl::InternalError("a write group answered with a wrong number of outcomes");
      }
      if (!r.ok()) {
        if (error_.ok()) error_ = r.status();
      } else {
        for (size_t i = 0; i < positions.size(); ++i) outcomes_[positions[i]] = (*r)[i];
      }
      if (--remaining_ > 0) return;
      done = std::move(done_);
      if (error_.ok()) {
        result = std::move(outcomes_);
      } else {
        result = error_;
      }
    }
    std::move(done)(std::move(result));
  }

 private:
  absl::Mutex mu_;
  std::vector<Outcome> outcomes_ ABSL_GUARDED_BY(mu_);
  size_t remaining_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  GroupCommitter::Done done_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

GroupCommitter::GroupCommitter(std::vector<std::unique_ptr<LedgerStore>> stores, Options options,
                               CommitObserver* observer)
    : options_(options), observer_(observer), stores_(std::move(stores)) {
  {
    absl::MutexLock lock(&mu_);
    queues_.resize(stores_.size());
  }
  for (size_t w = 0; w < stores_.size(); ++w) {
    writers_.emplace_back([this, w] { WriterLoop(w); });
  }
}

size_t GroupCommitter::WriterFor(const IngestItem& item) const {
  return std::hash<std::string>{}(item.step.tags.parent_run_id) % stores_.size();
}

std::vector<GroupCommitter::Pending> GroupCommitter::SplitByWriter(std::vector<IngestItem> items,
                                                                   Done done) const {
  auto batch = std::make_shared<const std::vector<IngestItem>>(std::move(items));
  std::vector<Pending> parts(stores_.size());
  for (const IngestItem& item : *batch) parts[WriterFor(item)].items.push_back(&item);
  size_t used = 0;
  for (const Pending& part : parts) used += part.items.empty() ? 0 : 1;
  if (used == 1) {  // one writer takes the whole batch: no split to complete
    for (Pending& part : parts) {
      if (part.items.empty()) continue;
      part.batch = std::move(batch);
      part.done = std::move(done);
    }
    return parts;
  }
  // Each part keeps its items in batch order; a refused batch drops the parts uncalled.
  auto split = std::make_shared<SplitBatch>(batch->size(), used, std::move(done));
  for (Pending& part : parts) {
    if (part.items.empty()) continue;
    part.batch = batch;
    std::vector<size_t> positions;
    positions.reserve(part.items.size());
    for (const IngestItem* item : part.items) {
      positions.push_back(static_cast<size_t>(item - batch->data()));
    }
    part.done = [split,
                 where = std::move(positions)](absl::StatusOr<std::vector<Outcome>> r) mutable {
      split->PartDone(where, std::move(r));
    };
  }
  return parts;
}

GroupCommitter::~GroupCommitter() { Stop(); }

absl::Status GroupCommitter::Submit(std::vector<IngestItem> items, Done done) {
  if (items.empty()) {
    std::move(done)(std::vector<Outcome>{});
    return absl::OkStatus();
  }
  const size_t events = items.size();
  // Split before taking the lock every stream and writer shares: it hashes every item's run.
  std::vector<Pending> parts = SplitByWriter(std::move(items), std::move(done));
  size_t bytes = 0;
  for (Pending& part : parts) {
    for (const IngestItem* item : part.items) part.bytes += ApproximateBytes(*item);
    bytes += part.bytes;
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("collector is shutting down; re-send elsewhere");
  if (queued_events_ + events > options_.max_queued_events) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write queue full (", queued_events_, " events waiting, limit ",
                     options_.max_queued_events, "); back off and re-send"));
  }
  // A batch larger than the whole byte bound on its own is still taken when the queue is empty,
  // so that no batch is refused forever.
  if (queued_bytes_ > 0 && queued_bytes_ + bytes > options_.max_queued_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write queue full (", queued_bytes_, " bytes waiting, limit ",
                     options_.max_queued_bytes, "); back off and re-send"));
  }
  queued_events_ += events;
  queued_bytes_ += bytes;
  for (size_t w = 0; w < parts.size(); ++w) {
    if (!parts[w].items.empty()) queues_[w].push_back(std::move(parts[w]));
  }
  return absl::OkStatus();
}

void GroupCommitter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && writers_.empty()) return;
    stopping_ = true;
  }
  for (auto& writer : writers_) {
    if (writer.joinable()) writer.join();
  }
  writers_.clear();
}

size_t GroupCommitter::QueuedEvents() const {
  absl::MutexLock lock(&mu_);
  return queued_events_;
}

void GroupCommitter::WriterLoop(size_t writer) {
  LedgerStore* store = stores_[writer].get();
  struct Ready {
    GroupCommitter* self;
    size_t writer;
    bool operator()() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
      return !self->queues_[writer].empty() || self->stopping_;
    }
  };
  Ready ready{this, writer};
  while (true) {
    std::vector<Pending> group;
    {
      mu_.LockWhen(absl::Condition(&ready));
      std::deque<Pending>& queue = queues_[writer];
      if (queue.empty()) {  // stopping and drained
        mu_.Unlock();
        return;
      }
      size_t events = 0;
      while (!queue.empty()) {
        size_t next = queue.front().items.size();
        if (!group.empty() && events + next > options_.max_group_events) break;
        events += next;
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      mu_.Unlock();
    }
    CommitGroup(store, group);
  }
}

absl::StatusOr<std::vector<Outcome>> GroupCommitter::CommitItems(
    LedgerStore* store, const std::vector<Pending>& group) {
  size_t events = 0;
  for (const Pending& p : group) events += p.items.size();
  std::vector<const IngestItem*> items;
  items.reserve(events);
  for (const Pending& p : group) items.insert(items.end(), p.items.begin(), p.items.end());
  const absl::Time start = absl::Now();
  absl::StatusOr<std::vector<Outcome>> result;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    result = store->Commit(items);
    if (result.ok() || !absl::IsAborted(result.status())) break;
  }
  if (result.ok() && result->size() != items.size()) {
    result = absl::InternalError("ledger store returned a wrong number of outcomes");
  }
  if (observer_ != nullptr) {
    if (result.ok()) {
      observer_->OnGroupCommitted(items, *result, absl::Now() - start);
    } else {
      observer_->OnGroupFailed(result.status(), items.size());
    }
  }
  return result;
}

void GroupCommitter::Complete(std::vector<Pending>& group,
                              const absl::StatusOr<std::vector<Outcome>>& result) {
  size_t offset = 0;
  for (Pending& p : group) {
    const size_t n = p.items.size();
    if (result.ok()) {
      std::move(p.done)(
          std::vector<Outcome>(result->begin() + offset, result->begin() + offset + n));
    } else {
      std::move(p.done)(result.status());
    }
    offset += n;
  }
}

void GroupCommitter::CommitGroup(LedgerStore* store, std::vector<Pending>& group) {
  size_t events = 0, bytes = 0;
  for (const Pending& p : group) {
    events += p.items.size();
    bytes += p.bytes;
  }
  absl::StatusOr<std::vector<Outcome>> result = CommitItems(store, group);
  if (result.ok() || group.size() == 1 || absl::IsUnavailable(result.status())) {
    Complete(group, result);
  } else {
    // A group mixes batches of unrelated streams. When it fails for a reason other than the
    // database being away, the cause may be one batch's rows: commit each batch on its own, so
    // that only a batch that fails alone sees the error and every other stream is acked as if
    // nothing happened. (Unavailable is not retried here: every batch would fail the same way,
    // and the commit's outcome may be unknown.)
    for (Pending& p : group) {
      std::vector<Pending> alone;
      alone.push_back(std::move(p));
      Complete(alone, CommitItems(store, alone));
    }
  }
  absl::MutexLock lock(&mu_);
  queued_events_ -= events;
  queued_bytes_ -= bytes;
}

}  // namespace stepledger::domain::ingest
