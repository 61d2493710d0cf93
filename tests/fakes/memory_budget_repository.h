// MemoryBudgetRepository: a BudgetRepository in memory for unit tests. Caps live in a map
// (PutCap and DeleteCap change it, SetCap and EraseCap change it as another replica would);
// acknowledgements are accepted and forgotten; there are no shared counters (one replica, and
// nothing stored before it started).
// Tests derive from it and override what they study.
#ifndef STEPLEDGER_TESTS_FAKES_MEMORY_BUDGET_REPOSITORY_H_
#define STEPLEDGER_TESTS_FAKES_MEMORY_BUDGET_REPOSITORY_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/budget/budget_repository.h"

namespace stepledger::testing {

class MemoryBudgetRepository : public domain::budget::BudgetRepository {
 public:
  using Cap = domain::budget::Cap;

  absl::StatusOr<std::vector<Cap>> LoadCaps() override {
    absl::MutexLock lock(&mu_);
    std::vector<Cap> out;
    for (const auto& [id, cap] : caps_) out.push_back(cap);
    return out;
  }
  absl::Status PutCap(const Cap& cap, const std::string&, absl::Time) override {
    SetCap(cap);
    return absl::OkStatus();
  }
  absl::Status DeleteCap(const std::string& cap_id, const std::string&) override {
    absl::MutexLock lock(&mu_);
    return caps_.erase(cap_id) > 0 ? absl::OkStatus() : absl::NotFoundError(cap_id);
  }
  absl::Status InsertAcknowledgement(const domain::budget::Acknowledgement&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<domain::budget::AcknowledgementsRead> LoadAcknowledgements(
      const std::string*) override {
    return domain::budget::AcknowledgementsRead{};
  }
  absl::StatusOr<domain::budget::CounterTotalsRead> ReadCounterTotals(
      absl::Time, const domain::budget::ChangedCounters*) override {
    return domain::budget::CounterTotalsRead{};
  }

  absl::StatusOr<std::vector<domain::budget::CounterTotals>> ReadSeriesTotals(
      absl::Time, const std::vector<domain::budget::CounterSeries>&) override {
    return std::vector<domain::budget::CounterTotals>{};
  }

  void SetCap(const Cap& cap) {
    absl::MutexLock lock(&mu_);
    caps_[cap.id] = cap;
  }
  void EraseCap(const std::string& cap_id) {
    absl::MutexLock lock(&mu_);
    caps_.erase(cap_id);
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, Cap> caps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_MEMORY_BUDGET_REPOSITORY_H_
