#include "server/domain/ingest/group_committer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace stepledger::domain::ingest {

GroupCommitter::GroupCommitter(std::vector<std::unique_ptr<LedgerStore>> stores, Options options,
                               CommitObserver* observer)
    : options_(options), observer_(observer), stores_(std::move(stores)) {
  for (auto& store : stores_) {
    writers_.emplace_back([this, s = store.get()] { WriterLoop(s); });
  }
}

GroupCommitter::~GroupCommitter() { Stop(); }

absl::Status GroupCommitter::Submit(std::vector<IngestItem> items, Done done) {
  if (items.empty()) {
    std::move(done)(std::vector<Outcome>{});
    return absl::OkStatus();
  }
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("collector is shutting down; re-send elsewhere");
  if (queued_events_ + items.size() > options_.max_queued_events) {
    return absl::ResourceExhaustedError(
        absl::StrCat("write queue full (", queued_events_, " events waiting, limit ",
                     options_.max_queued_events, "); back off and re-send"));
  }
  queued_events_ += items.size();
  queue_.push_back(Pending{std::move(items), std::move(done)});
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

void GroupCommitter::WriterLoop(LedgerStore* store) {
  while (true) {
    std::vector<Pending> group;
    {
      mu_.LockWhen(absl::Condition(
          +[](GroupCommitter* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return !self->queue_.empty() || self->stopping_;
          },
          this));
      if (queue_.empty()) {  // stopping and drained
        mu_.Unlock();
        return;
      }
      size_t events = 0;
      while (!queue_.empty()) {
        size_t next = queue_.front().items.size();
        if (!group.empty() && events + next > options_.max_group_events) break;
        events += next;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      mu_.Unlock();
    }
    CommitGroup(store, group);
  }
}

void GroupCommitter::CommitGroup(LedgerStore* store, std::vector<Pending>& group) {
  std::vector<const IngestItem*> items;
  for (const Pending& p : group) {
    for (const IngestItem& item : p.items) items.push_back(&item);
  }
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
  size_t offset = 0;
  for (Pending& p : group) {
    const size_t n = p.items.size();
    if (result.ok()) {
      std::move(p.done)(std::vector<Outcome>(result->begin() + offset, result->begin() + offset + n));
    } else {
      std::move(p.done)(result.status());
    }
    offset += n;
  }
  absl::MutexLock lock(&mu_);
  queued_events_ -= items.size();
}

}  // namespace stepledger::domain::ingest
