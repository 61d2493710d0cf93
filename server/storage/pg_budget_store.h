// PgBudgetStore: caps (every change audited with who, when, before and after), acknowledgements
// (kept forever) and the shared spend counters, in PostgreSQL.
//
// Thread safety: thread-safe; one connection guarded by a mutex (budget administration and the
// once-a-second counter refresh are low rate; the hot CheckBudget path never touches this).
// The connection is reopened on the next call after a failure.
#ifndef STEPLEDGER_SERVER_STORAGE_PG_BUDGET_STORE_H_
#define STEPLEDGER_SERVER_STORAGE_PG_BUDGET_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/budget/acknowledgements.h"
#include "server/domain/budget/budget_repository.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/engine.h"
#include "server/storage/lazy_pg_connection.h"

namespace stepledger::storage {

class PgBudgetStore final : public domain::budget::BudgetRepository {
 public:
  explicit PgBudgetStore(std::string database_url);
  ~PgBudgetStore() override;

  absl::StatusOr<std::vector<domain::budget::Cap>> LoadCaps() override;
  absl::StatusOr<int64_t> CapsVersion() override;
  // Inserts or replaces the cap and audits the change, in one transaction that takes no lock a
  // writer needs (its counters need no back-fill: writers count every key).
  // REQUIRES: the cap passed ValidateCap().
  absl::Status PutCap(const domain::budget::Cap& cap, const std::string& changed_by,
                      absl::Time now) override;
  // NotFound when absent. Audited. Acknowledgements of the cap are kept.
  absl::Status DeleteCap(const std::string& cap_id, const std::string& changed_by) override;

  absl::Status InsertAcknowledgement(const domain::budget::Acknowledgement& ack) override;
  // With `since_mark`, only those stored by transactions that snapshot could not see; the mark
  // returned is the read's snapshot, as text (migrations/0012).
  absl::StatusOr<domain::budget::AcknowledgementsRead> LoadAcknowledgements(
      const std::string* since_mark) override;

  // Totals over every owner of the watched counters (and the org's) of periods that end after
  // `since`, one index probe per watched series; with `changed`, only those with a row whose
  // changed_xid is not visible in the mark (found by a pass over the table or by those probes,
  // whichever is cheaper: budget_queries.h), the named ones and the new series' in full. The
  // mark returned is the read's snapshot, as text (migrations/0011).
  absl::StatusOr<domain::budget::CounterTotalsRead> ReadCounterTotals(
      absl::Time since, const domain::budget::ChangedCounters* changed) override;
  absl::StatusOr<std::vector<domain::budget::CounterTotals>> ReadSeriesTotals(
      absl::Time since, const std::vector<domain::budget::CounterSeries>& series) override;
  absl::StatusOr<int64_t> PruneCounters(absl::Time daily_before, absl::Time monthly_before,
                                        int64_t limit) override;

 private:
  LazyPgConnection db_;
};

// String forms used in the database (and the CLI): "feature", "daily", "require_ack", ...
absl::StatusOr<domain::budget::Scope> ParseScope(std::string_view s);
absl::StatusOr<domain::budget::Period> ParsePeriod(std::string_view s);
absl::StatusOr<domain::budget::Action> ParseAction(std::string_view s);
absl::StatusOr<domain::Environment> ParseEnvironment(std::string_view s);
// Empty (NULL: a row written without it) is `action`'s default, as ApplyCapDefaults gives.
absl::StatusOr<domain::budget::StalePolicy> ParseStalePolicy(std::string_view s,
                                                             domain::budget::Action action);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PG_BUDGET_STORE_H_
