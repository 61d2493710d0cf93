// ReservationSharing: makes a reservation made on one replica count on every replica and be
// settled by its step whichever replica stores it (docs/BUDGETS.md, "Several replicas").
//
//   - OnReserved (on the check's path): queues the new reservation; a hash-free push under a
//     mutex of its own, so a reserving check stays in memory (no database round trip).
//   - Flush (app/ runs it every kReservationFlushInterval, 50 ms): writes the queued
//     reservations still open to the shared table in one transaction, which also settles those
//     whose step is already stored.
//   - Read / Apply (from BudgetCoordinator::Refresh, every refresh interval): first settles this
//     replica's recently written rows whose step was stored while they were being written
//     (SettleStored), then reads the rows changed since the last read. The coordinator reads the
//     counters after these rows and applies the rows after the counters, so a settled hold is
//     released only once the step's spend is counted.
//   - Upkeep (every refresh): deletes rows finished more than a minute ago, one replica at a
//     time, at most every kReservationUpkeepInterval.
// Expiry needs no write: every replica's engine releases each hold at its expires_at.
//
// Thread safety: all methods are thread-safe. Read and Apply are called by the refresh only
// (one at a time); Flush by one task.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATION_SHARING_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATION_SHARING_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/budget/engine.h"
#include "server/domain/budget/reservation_repository.h"
#include "server/domain/clock.h"

namespace stepledger::domain::budget {

inline constexpr absl::Duration kReservationFlushInterval = absl::Milliseconds(50);
// How long after its write a row is checked against the ledger on every refresh: far longer
// than a group commit's transaction, which is what a step that raced with the write waits on.
inline constexpr absl::Duration kSettleStoredWindow = absl::Seconds(10);
// Finished rows are deleted this long after they finished (every replica read them by then).
inline constexpr absl::Duration kFinishedReservationGrace = absl::Minutes(1);
inline constexpr absl::Duration kReservationUpkeepInterval = absl::Seconds(10);
// Queued reservations kept while the database is unreachable; older ones are dropped (they
// still hold on this replica, only the others do not see them).
inline constexpr size_t kMaxQueuedReservations = 100'000;

class ReservationSharing {
 public:
  // REQUIRES: all references outlive this object.
  ReservationSharing(BudgetEngine& engine, ReservationRepository& repository, const Clock& clock);

  // A check for the step `step_id` of run tags.parent_run_id made reservation `reservation_id`,
  // kept under `key` (BudgetCoordinator::ReservationKey).
  void OnReserved(const Tags& tags, std::string_view step_id, std::string_view key,
                  std::string_view reservation_id);
  // Writes the queued reservations that are still open. Failed writes are retried next time.
  absl::Status Flush();

  // This replica's recently written rows settled where their step is stored, then the rows
  // changed since the last read (all of them at start and after a failure).
  absl::StatusOr<std::vector<SharedReservation>> Read();
  void Apply(const std::vector<SharedReservation>& rows) { engine_.ApplySharedReservations(rows); }
  // Forget the read mark: the next Read reads every row.
  void ResetMark();
  void Upkeep(absl::Time now);

  int64_t written() const { return written_.load(); }

 private:
  struct Pending {
    std::string key;
    std::string reservation_id;
    std::string parent_run_id;
    std::string step_id;
    Tags tags;
  };

  BudgetEngine& engine_;
  ReservationRepository& repository_;
  const Clock& clock_;
  std::atomic<int64_t> written_{0};

  absl::Mutex pending_mu_;
  std::vector<Pending> pending_ ABSL_GUARDED_BY(pending_mu_);
  absl::Mutex flush_mu_ ABSL_ACQUIRED_BEFORE(pending_mu_);  // one Flush at a time

  absl::Mutex read_mu_;
  std::optional<std::string> mark_ ABSL_GUARDED_BY(read_mu_);
  absl::Time next_upkeep_ ABSL_GUARDED_BY(read_mu_) = absl::InfinitePast();
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATION_SHARING_H_
