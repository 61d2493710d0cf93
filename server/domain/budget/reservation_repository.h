// Port: the reservations table every replica shares (PostgreSQL in production, see
// storage/pg_reservation_store.h and migrations/0016), so that a reservation made on one replica
// is held on every replica and settled by its step whichever replica stores it. The settle
// itself is written by the ledger's own transaction (the one that stores the step), not here.
// Implementations must be thread-safe.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATION_REPOSITORY_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATION_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/budget/reservations.h"

namespace stepledger::domain::budget {

struct SharedReservationsRead {
  std::vector<SharedReservation> rows;
  // For the next read's `since_mark`; nullopt when the repository does not mark reads (then
  // every read returns every row).
  std::optional<std::string> next_mark;
};

class ReservationRepository {
 public:
  virtual ~ReservationRepository() = default;
  // Inserts the rows, or replaces the open row of the same step when it is older (a retried
  // check), then marks settled those of them whose step is already stored: a step stored before
  // its reservation's row existed found nothing to settle.
  virtual absl::Status Write(const std::vector<SharedReservation>& rows) = 0;
  // Marks settled the open rows of `owner` written less than `window` ago whose step is stored
  // now: a step whose transaction began before the row was written and committed after Write
  // looked. Cheap: one ledger probe per such row.
  virtual absl::Status SettleStored(const std::string& owner, absl::Duration window) = 0;
  // Every row (since_mark null) or only those written by transactions that the read which
  // returned *since_mark could not see.
  virtual absl::StatusOr<SharedReservationsRead> Read(const std::string* since_mark) = 0;
  // Deletes rows settled or expired more than `grace` ago (every replica has read them by
  // then); one replica at a time does it, the others return 0 at once. Returns how many.
  virtual absl::StatusOr<int64_t> DeleteFinished(absl::Duration grace) = 0;
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_RESERVATION_REPOSITORY_H_
