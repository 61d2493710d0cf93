#include "server/domain/budget/reservation_sharing.h"

#include <utility>

namespace stepledger::domain::budget {

ReservationSharing::ReservationSharing(BudgetEngine& engine, ReservationRepository& repository,
                                       const Clock& clock)
    : engine_(engine), repository_(repository), clock_(clock) {}

void ReservationSharing::OnReserved(const Tags& tags, std::string_view step_id,
                                    std::string_view key, std::string_view reservation_id) {
  Pending p{std::string(key), std::string(reservation_id), tags.parent_run_id, std::string(step_id),
            tags};
  absl::MutexLock lock(&pending_mu_);
  if (pending_.size() >= kMaxQueuedReservations) return;  // database away for a long while
  pending_.push_back(std::move(p));
}

absl::Status ReservationSharing::Flush() {
  absl::MutexLock flush_lock(&flush_mu_);
  std::vector<Pending> batch;
  {
    absl::MutexLock lock(&pending_mu_);
    batch.swap(pending_);
  }
  if (batch.empty()) return absl::OkStatus();
  std::vector<SharedReservation> rows;
  rows.reserve(batch.size());
  for (const Pending& p : batch) {
    // Settled, expired or replaced since the check: nothing to share. (A step stored on this
    // replica right after its check usually ends here, before any row is written.)
    std::optional<SharedReservation> row = engine_.OwnOpenReservation(p.key, p.reservation_id);
    if (!row.has_value()) continue;
    row->parent_run_id = p.parent_run_id;
    row->step_id = p.step_id;
    row->tags = p.tags;
    rows.push_back(*std::move(row));
  }
  if (rows.empty()) return absl::OkStatus();
  if (absl::Status s = repository_.Write(rows); !s.ok()) {
    // Retried with the next flush, behind the newer ones (order does not matter: each row
    // names its own reservation, and a stale one never replaces a newer row).
    absl::MutexLock lock(&pending_mu_);
    for (Pending& p : batch) {
      if (pending_.size() >= kMaxQueuedReservations) break;
      pending_.push_back(std::move(p));
    }
    return s;
  }
  written_ += static_cast<int64_t>(rows.size());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SharedReservation>> ReservationSharing::Read() {
  absl::MutexLock lock(&read_mu_);
  if (absl::Status s = repository_.SettleStored(engine_.instance_id(), kSettleStoredWindow);
      !s.ok()) {
    mark_.reset();
    return s;
  }
  absl::StatusOr<SharedReservationsRead> read =
      repository_.Read(mark_.has_value() ? &*mark_ : nullptr);
  if (!read.ok()) {
    // A mark means nothing to a restored or replaced database: read everything next time.
    mark_.reset();
    return read.status();
  }
  mark_ = std::move(read->next_mark);
  return std::move(read->rows);
}

void ReservationSharing::ResetMark() {
  absl::MutexLock lock(&read_mu_);
  mark_.reset();
}

void ReservationSharing::Upkeep(absl::Time now) {
  {
    absl::MutexLock lock(&read_mu_);
    if (now < next_upkeep_) return;
    next_upkeep_ = now + kReservationUpkeepInterval;
  }
  repository_.DeleteFinished(kFinishedReservationGrace).IgnoreError();  // next time, then
}

}  // namespace stepledger::domain::budget
