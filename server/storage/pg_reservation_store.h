// PgReservationStore: the budget reservations every replica shares, in PostgreSQL
// (migrations/0016, queries in reservation_queries.h). The step's own ledger transaction
// settles a reservation (ledger_queries.h); this store writes, re-checks, reads and deletes.
//
// Thread safety: thread-safe; one connection guarded by a mutex (a flush every 50 ms at most
// and the once-a-second refresh; the CheckBudget path never touches it). The connection is
// reopened on the next call after a failure.
#ifndef STEPLEDGER_SERVER_STORAGE_PG_RESERVATION_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_PG_RESERVATION_STORE_H_

#include <string>
#include <vector>

#include "server/domain/budget/reservation_repository.h"
#include "server/storage/lazy_pg_connection.h"

namespace stepledger::storage {

class PgReservationStore final : public domain::budget::ReservationRepository {
 public:
  explicit PgReservationStore(std::string database_url);
  ~PgReservationStore() override;

  absl::Status Write(const std::vector<domain::budget::SharedReservation>& rows) override;
  absl::Status SettleStored(const std::string& owner, absl::Duration window) override;
  // With `since_mark`, only rows whose changed_xid that snapshot could not see; the mark
  // returned is the read's snapshot, as text.
  absl::StatusOr<domain::budget::SharedReservationsRead> Read(
      const std::string* since_mark) override;
  absl::StatusOr<int64_t> DeleteFinished(absl::Duration grace) override;

 private:
  LazyPgConnection db_;
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_RESERVATION_STORE_H_
