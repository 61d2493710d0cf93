// Port: where caps, acknowledgements and shared spend counters are kept (PostgreSQL in
// production, see storage/pg_budget_store.h). Implementations must be thread-safe.
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_BUDGET_REPOSITORY_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_BUDGET_REPOSITORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/domain/budget/acknowledgements.h"
#include "server/domain/budget/cap.h"
#include "server/domain/budget/engine.h"

namespace stepledger::domain::budget {

// The counters of one (scope, key, environment, period), in every period: what a cap watches.
struct CounterSeries {
  Scope scope = Scope::kUnspecified;
  std::string key;
  Environment environment = Environment::kUnspecified;
  Period period = Period::kUnspecified;

  friend bool operator==(const CounterSeries&, const CounterSeries&) = default;
};

inline CounterSeries SeriesOf(const Cap& cap) {
  return {cap.scope, cap.key, cap.environment, cap.period};
}

// Narrows a counter read to what may have changed since an earlier one.
struct ChangedCounters {
  // The `next_mark` of the earlier read (opaque to the caller): the counters to read are those
  // with a row written by a transaction that read could not see.
  std::string since_mark;
  // Counters to read whatever their rows' writers.
  std::vector<CounterKey> keys;
  // Series to read in full whatever their rows' writers: those a cap started watching since
  // the earlier read (their rows were not read then, however old they are).
  std::vector<CounterSeries> new_series;
};

struct CounterTotalsRead {
  std::vector<CounterTotals> rows;
  // For the next read's ChangedCounters::since_mark; nullopt when the repository does not mark
  // changes (then every read must be in full).
  std::optional<std::string> next_mark;
};

struct AcknowledgementsRead {
  std::vector<Acknowledgement> acks;
  // For the next read's `since_mark`; nullopt when the repository does not mark reads (then
  // every read returns every acknowledgement).
  std::optional<std::string> next_mark;
};

class BudgetRepository {
 public:
  virtual ~BudgetRepository() = default;
  virtual absl::StatusOr<std::vector<Cap>> LoadCaps() = 0;
  // A number that changes whenever any cap changes, read before LoadCaps(): equal numbers mean
  // the caps are the same and need not be read again. -1: not tracked (always re-read).
  virtual absl::StatusOr<int64_t> CapsVersion() { return -1; }
  // Audited. Writes the cap only: writers count every key's spend whether or not a cap watches
  // it, so a new cap's counters are already there (ReadCounterTotals reads them).
  virtual absl::Status PutCap(const Cap& cap, const std::string& changed_by, absl::Time now) = 0;
  virtual absl::Status DeleteCap(const std::string& cap_id, const std::string& changed_by) = 0;
  virtual absl::Status InsertAcknowledgement(const Acknowledgement& ack) = 0;
  // Every acknowledgement (since_mark null), or only those stored by transactions that the read
  // which returned *since_mark could not see.
  virtual absl::StatusOr<AcknowledgementsRead> LoadAcknowledgements(
      const std::string* since_mark) = 0;
  // Committed spend per counter of a period that ends after `since`, summed over every writer
  // of every replica, for the series some stored cap watches and the org's (never for the
  // other keys, however many have spend: the read's cost follows the caps). `changed` null:
  // every such counter. Otherwise only the counters with a row changed since the read that
  // returned `changed->since_mark`, those named in `changed->keys`, and every counter of the
  // series in `changed->new_series`.
  virtual absl::StatusOr<CounterTotalsRead> ReadCounterTotals(absl::Time since,
                                                              const ChangedCounters* changed) = 0;
  // Committed spend per counter of the given series (periods that end after `since`), summed
  // over every writer of every replica: what a new cap reads. One index probe per series.
  virtual absl::StatusOr<std::vector<CounterTotals>> ReadSeriesTotals(
      absl::Time since, const std::vector<CounterSeries>& series) = 0;
  // Deletes stored counter rows of daily periods that started before `daily_before` and of
  // monthly periods that started before `monthly_before`, at most `limit` of them, skipping
  // rows a writer holds (it never waits on one). Returns how many; fewer than `limit` means
  // none is left. Any replica may run it at any time.
  virtual absl::StatusOr<int64_t> PruneCounters(absl::Time daily_before, absl::Time monthly_before,
                                                int64_t limit) {
    return 0;
  }
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_BUDGET_REPOSITORY_H_
