// PgCapChangeStore: the sign-off flow's writes and reads (domain/budget/cap_governance.h) in
// PostgreSQL: cap revisions, loosening proposals (budget_proposals, migration 0023) and
// sign-offs, each change in one transaction with its budget_audit rows. Every transaction
// takes the cap's advisory lock first (queries::kLockCapChanges), so changes to one cap are
// serialized across replicas and a check of "the revision is still N" holds until commit.
//
// Thread safety: thread-safe; one LazyPgConnection (cap administration is rare).
#ifndef STEPLEDGER_SERVER_STORAGE_PG_CAP_CHANGE_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_PG_CAP_CHANGE_STORE_H_

#include <string>
#include <vector>

#include "server/domain/budget/cap_governance.h"
#include "server/storage/lazy_pg_connection.h"

namespace stepledger::storage {

class PgCapChangeStore final : public domain::budget::CapChangeStore {
 public:
  explicit PgCapChangeStore(std::string database_url);
  ~PgCapChangeStore() override;

  absl::StatusOr<std::optional<domain::budget::Cap>> LoadCap(const std::string& cap_id) override;
  absl::StatusOr<std::optional<domain::budget::Cap>> ApplyChange(
      const std::string& cap_id, int64_t expected_revision,
      const std::optional<domain::budget::Cap>& after, const domain::budget::Actor& actor,
      const std::string& signed_off_by) override;
  absl::StatusOr<domain::budget::CapProposal> Propose(domain::budget::CapProposal proposal,
                                                      const domain::budget::Actor& actor) override;
  absl::StatusOr<std::optional<domain::budget::CapProposal>> LoadProposal(int64_t id) override;
  absl::StatusOr<std::vector<domain::budget::CapProposal>> ListOpenProposals(
      const std::string& cap_id, absl::Time now) override;
  absl::StatusOr<std::vector<domain::budget::Cap>> ListAwaitingSignOff(
      const std::string& cap_id) override;
  absl::StatusOr<std::optional<domain::budget::Cap>> ApplyProposal(
      int64_t id, const domain::budget::Actor& approver, const std::string& reason,
      absl::Time now) override;
  absl::StatusOr<domain::budget::Cap> SignOff(const std::string& cap_id, int64_t revision,
                                              const domain::budget::Actor& approver,
                                              const std::string& reason) override;

 private:
  LazyPgConnection db_;
};

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_CAP_CHANGE_STORE_H_
