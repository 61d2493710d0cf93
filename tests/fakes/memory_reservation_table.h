// MemoryReservationTable: the shared budget reservations table (migrations/0016) in memory, for
// unit tests of several replicas' ReservationSharing against one table. Every call commits at
// once; a read's mark is the next write sequence number (marks are opaque text). StoreStep is
// what the ledger's transaction does when it stores a step: it settles that step's open row.
// Tests can hold a step back (as a transaction that looked for the row before it was written).
#ifndef STEPLEDGER_TESTS_FAKES_MEMORY_RESERVATION_TABLE_H_
#define STEPLEDGER_TESTS_FAKES_MEMORY_RESERVATION_TABLE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/budget/reservation_repository.h"
#include "server/domain/clock.h"

namespace stepledger::testing {

class MemoryReservationTable final : public domain::budget::ReservationRepository {
 public:
  using SharedReservation = domain::budget::SharedReservation;

  explicit MemoryReservationTable(const domain::Clock& clock) : clock_(clock) {}

  absl::Status Write(const std::vector<SharedReservation>& rows) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes) return absl::UnavailableError("write reservations: connection lost");
    for (const SharedReservation& r : rows) {
      auto it = rows_.find(Key(r));
      if (it != rows_.end() &&
          (it->second.row.settled || it->second.row.created_at > r.created_at)) {
        continue;
      }
      rows_[Key(r)] = {r, ++seq_, clock_.Now(), absl::InfinitePast()};
      if (stored_.contains(Key(r))) Settle(rows_[Key(r)]);
    }
    return absl::OkStatus();
  }

  absl::Status SettleStored(const std::string& owner, absl::Duration window) override {
    absl::MutexLock lock(&mu_);
    ++settle_stored_calls;
    for (auto& [key, entry] : rows_) {
      if (entry.row.owner == owner && !entry.row.settled &&
          entry.written_at >= clock_.Now() - window && stored_.contains(key)) {
        Settle(entry);
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<domain::budget::SharedReservationsRead> Read(
      const std::string* since_mark) override {
    absl::MutexLock lock(&mu_);
    if (fail_reads) return absl::UnavailableError("read reservations: connection lost");
    int64_t since = 0;
    if (since_mark != nullptr && !absl::SimpleAtoi(*since_mark, &since)) {
      return absl::InvalidArgumentError("mark");
    }
    domain::budget::SharedReservationsRead read;
    for (const auto& [key, entry] : rows_) {
      if (entry.seq > since) read.rows.push_back(entry.row);
    }
    read.next_mark = absl::StrCat(seq_);
    return read;
  }

  absl::StatusOr<int64_t> DeleteFinished(absl::Duration grace) override {
    absl::MutexLock lock(&mu_);
    int64_t n = 0;
    for (auto it = rows_.begin(); it != rows_.end();) {
      const bool done = (it->second.row.settled && it->second.settled_at < clock_.Now() - grace) ||
                        it->second.row.expires_at < clock_.Now() - grace;
      if (done) {
        it = rows_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

  // The ledger stores the step (run, step): its open row, if written, is settled in the same
  // transaction. With settle_row = false the transaction looked before the row was written
  // (the race the owner's re-check against the ledger closes).
  void StoreStep(const std::string& run, const std::string& step, bool settle_row = true) {
    absl::MutexLock lock(&mu_);
    const std::string key = absl::StrCat(run, "/", step);
    stored_.insert(key);
    if (!settle_row) return;
    auto it = rows_.find(key);
    if (it != rows_.end() && !it->second.row.settled) Settle(it->second);
  }

  size_t size() {
    absl::MutexLock lock(&mu_);
    return rows_.size();
  }
  std::optional<SharedReservation> Row(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = rows_.find(key);
    if (it == rows_.end()) return std::nullopt;
    return it->second.row;
  }

  bool fail_writes = false;  // read under mu_ by Write; tests set it between calls
  bool fail_reads = false;
  int settle_stored_calls = 0;

 private:
  struct Entry {
    SharedReservation row;
    int64_t seq = 0;
    absl::Time written_at;
    absl::Time settled_at;
  };
  static std::string Key(const SharedReservation& r) {
    return absl::StrCat(r.parent_run_id, "/", r.step_id);
  }
  void Settle(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    e.row.settled = true;
    e.seq = ++seq_;
    e.settled_at = clock_.Now();
  }

  const domain::Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, Entry> rows_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> stored_ ABSL_GUARDED_BY(mu_);
  int64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_MEMORY_RESERVATION_TABLE_H_
