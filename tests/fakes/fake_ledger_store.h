// In-memory LedgerStore for unit tests of the write path. Same outcome rules as the
// PostgreSQL store: first occurrence of an id is accepted, same digest again is a duplicate,
// other digest a conflict, rejected items are quarantined.
#ifndef STEPLEDGER_TESTS_FAKES_FAKE_LEDGER_STORE_H_
#define STEPLEDGER_TESTS_FAKES_FAKE_LEDGER_STORE_H_

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/domain/ingest/ledger_port.h"

namespace stepledger::testing {

class FakeLedgerStore final : public domain::ingest::LedgerStore {
 public:
  // Statuses to return (in order) before behaving normally.
  void FailNext(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failures_.push_back(std::move(status));
  }
  // Any group containing this event id fails with InvalidArgument, as PostgreSQL refuses a
  // whole transaction over one row's value.
  void Poison(std::string event_id) {
    absl::MutexLock lock(&mu_);
    poison_.insert(std::move(event_id));
  }
  // Blocks every Commit until Release() (to fill the queue in tests).
  void Hold() { hold_ = true; }
  void Release() { release_.Notify(); }
  // Returns once a Commit is blocked in Hold() (single-writer tests: the writer is busy).
  void WaitUntilHeld() { held_.WaitForNotification(); }

  absl::StatusOr<std::vector<domain::ingest::Outcome>> Commit(
      absl::Span<const domain::ingest::IngestItem* const> items) override {
    if (hold_) {
      {
        absl::MutexLock lock(&mu_);
        if (!held_.HasBeenNotified()) held_.Notify();
      }
      release_.WaitForNotification();
    }
    absl::MutexLock lock(&mu_);
    ++commits_;
    if (!failures_.empty()) {
      absl::Status s = failures_.front();
      failures_.pop_front();
      return s;
    }
    for (const auto* item : items) {
      if (poison_.count(item->step.event_id) > 0) {
        return absl::InvalidArgumentError("value out of range: " + item->step.event_id);
      }
    }
    std::vector<domain::ingest::Outcome> out;
    for (const auto* item : items) {
      using domain::ingest::Outcome;
      runs_.insert(item->step.tags.parent_run_id);
      if (item->rejection.has_value()) {
        ++quarantined_;
        quarantined_times_.push_back(item->occurred_at());
        out.push_back(Outcome::kQuarantined);
        continue;
      }
      auto [it, inserted] = digests_.emplace(item->step.event_id, item->digest);
      if (inserted) {
        out.push_back(Outcome::kAccepted);
      } else if (it->second == item->digest) {
        out.push_back(Outcome::kDuplicate);
      } else {
        ++quarantined_;
        out.push_back(Outcome::kConflict);
      }
    }
    return out;
  }

  int commits() const {
    absl::MutexLock lock(&mu_);
    return commits_;
  }
  size_t stored() const {
    absl::MutexLock lock(&mu_);
    return digests_.size();
  }
  int quarantined() const {
    absl::MutexLock lock(&mu_);
    return quarantined_;
  }
  // occurred_at() of every rejected item, in commit order: where its quarantine row is placed.
  std::vector<absl::Time> quarantined_times() const {
    absl::MutexLock lock(&mu_);
    return quarantined_times_;
  }
  // Runs (parent_run_id) of every item this store was given.
  std::set<std::string> runs() const {
    absl::MutexLock lock(&mu_);
    return runs_;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> digests_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> runs_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> poison_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> quarantined_times_ ABSL_GUARDED_BY(mu_);
  int commits_ ABSL_GUARDED_BY(mu_) = 0;
  int quarantined_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> hold_{false};
  absl::Notification release_;
  absl::Notification held_;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_FAKE_LEDGER_STORE_H_
