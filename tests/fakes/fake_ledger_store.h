// In-memory LedgerStore for unit tests of the write path. Same outcome rules as the
// PostgreSQL store: first occurrence of an id is accepted, same digest again is a duplicate,
// other digest a conflict, rejected items are quarantined.
#ifndef STEPLEDGER_TESTS_FAKES_FAKE_LEDGER_STORE_H_
#define STEPLEDGER_TESTS_FAKES_FAKE_LEDGER_STORE_H_

#include <deque>
#include <map>
#include <set>
#include <string>

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
  // Blocks every Commit until Release() (to fill the queue in tests).
  void Hold() { hold_ = true; }
  void Release() { release_.Notify(); }

  absl::StatusOr<std::vector<domain::ingest::Outcome>> Commit(
      absl::Span<const domain::ingest::IngestItem* const> items) override {
    if (hold_) release_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    ++commits_;
    if (!failures_.empty()) {
      absl::Status s = failures_.front();
      failures_.pop_front();
      return s;
    }
    std::vector<domain::ingest::Outcome> out;
    for (const auto* item : items) {
      using domain::ingest::Outcome;
      runs_.insert(item->step.tags.parent_run_id);
      if (item->rejection.has_value()) {
        ++quarantined_;
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
  int commits_ ABSL_GUARDED_BY(mu_) = 0;
  int quarantined_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<bool> hold_{false};
  absl::Notification release_;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_FAKE_LEDGER_STORE_H_
