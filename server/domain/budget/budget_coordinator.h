// BudgetCoordinator: the budget use cases around the in-memory engine.
//
//   - administration: caps (validated, defaulted by tier, stored and audited through the
//     repository before the engine sees them) and acknowledgements (stored first: the audit
//     trail is never behind what the engine enforces);
//   - committed spend: as a CommitObserver it charges every newly stored step to the engine
//     (and settles the step's reservation) right after its group commits;
//   - refresh (every ~1 s, app/ drives it): caps and acknowledgements changed by other replicas,
//     and the shared counters. Counters are read as totals over every writer of every replica
//     (this one's included) and this replica's local counts since the read began are kept on
//     top, so a check sees its own commits at once and everyone's within one refresh.
//     Only the counters of series some cap watches are read (and the org's), never those of
//     the other keys writers count. They are read in full at start, after a failed refresh and
//     every full_counter_read_interval; in between only those with a row changed since the
//     last read, those this replica charged since, and every counter of a series a cap started
//     watching since (see SyncCounters). PutCap reads its new series at once (SyncSeries). A
//     cap change (PutCap, or one synced from another replica) therefore costs one indexed read
//     of its series, never a recount, and takes no lock a writer needs. Counters of periods that
//     ended more than a day ago are pruned, from the engine and from storage, every
//     hour. Acknowledgements are read in full at start and after a failed refresh, otherwise only
//     those stored since the last read, and always before the caps (see Refresh).
//
// Reservations are keyed by "<parent_run_id>/<step_id>", on both the check and the settle
// side, because step ids are only unique within a run. With a ReservationSharing, every
// reservation is shared with the other replicas (reservation_sharing.h) and each refresh reads
// theirs: the rows first, then the counters, and the rows are applied after the counters, so a
// hold settled by a step stored elsewhere is released only with that step's spend counted.
//
// Thread safety: all methods are thread-safe (the engine and the repository are).
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_BUDGET_COORDINATOR_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_BUDGET_COORDINATOR_H_

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/budget/budget_repository.h"
#include "server/domain/budget/cap_change.h"
#include "server/domain/budget/engine.h"
#include "server/domain/budget/reservation_sharing.h"
#include "server/domain/clock.h"
#include "server/domain/ingest/group_committer.h"

namespace stepledger::domain::budget {

// Observes decisions for metrics; must be thread-safe.
class BudgetObserver {
 public:
  virtual ~BudgetObserver() = default;
  virtual void OnCheck(const CheckResult& result, absl::Duration latency) = 0;
  virtual void OnCheckRejected() = 0;
  virtual void OnAcknowledgement() = 0;
  virtual void OnRefresh(BudgetEngine& engine) = 0;
  // A counter read applied by a refresh: in full or only the changed counters, and its rows.
  virtual void OnCounterRead(bool full, size_t rows) = 0;
  // After every refresh round, failed or not: how old the counters are (nullopt: never read),
  // so a gauge keeps growing while the database is away.
  virtual void OnCountersAge(std::optional<absl::Duration> age) {}
};

// A safety net, not the mechanism: incremental reads miss nothing written by stepledger, but a
// counter row edited by hand (without moving its change mark) is picked up by the next full read.
inline constexpr absl::Duration kDefaultFullCounterReadInterval = absl::Minutes(1);

class BudgetCoordinator final : public ingest::CommitObserver {
 public:
  // REQUIRES: all references outlive this object; observer and sharing may be null (without
  // sharing, reservations stay on this replica: one replica, or tests).
  BudgetCoordinator(BudgetEngine& engine, BudgetRepository& repository, const Clock& clock,
                    BudgetObserver* observer,
                    absl::Duration full_counter_read_interval = kDefaultFullCounterReadInterval,
                    ReservationSharing* sharing = nullptr);

  // Loads caps, acknowledgements and counters. Call once before serving.
  absl::Status Start();
  // One refresh round (caps, acknowledgements, counters) and reservation expiry.
  absl::Status Refresh();

  absl::StatusOr<CheckResult> Check(CheckRequest request);

  // Stores (trusted: no sign-off flow) and enforces. Production changes go through
  // CapGovernance, which stores them itself and calls AdoptStoredCap / ForgetCap.
  absl::StatusOr<Cap> PutCap(Cap cap, const std::string& changed_by);
  absl::Status DeleteCap(const std::string& cap_id, const std::string& changed_by);
  // Enforces `cap` as it is stored now and reads its counters at once, so a check right after
  // the change sees the period's spend (other replicas follow within one refresh).
  absl::StatusOr<Cap> AdoptStoredCap(Cap cap);
  // Stops enforcing a cap deleted from storage (OK when the engine did not have it).
  absl::Status ForgetCap(const std::string& cap_id);
  std::vector<Cap> ListCaps() const { return engine_.ListCaps(); }

  absl::StatusOr<Acknowledgement> Acknowledge(const std::string& cap_id,
                                              const std::string& principal,
                                              const std::string& reason, NanoUsd extra_headroom,
                                              absl::Time expires_at);
  std::vector<Acknowledgement> ListAcknowledgements(const std::string& cap_id) const;

  // CommitObserver
  void OnGroupCommitted(absl::Span<const ingest::IngestItem* const> items,
                        absl::Span<const ingest::Outcome> outcomes,
                        absl::Duration latency) override;
  void OnGroupFailed(const absl::Status& status, size_t events) override {}

  // Stored caps the engine refused while syncing (never written by PutBudget).
  int64_t invalid_caps_skipped() const { return invalid_caps_skipped_.load(); }

  static std::string ReservationKey(std::string_view run_id, std::string_view step_id);

 private:
  absl::Status RefreshRound() ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  // Appends to new_series the series of the caps it added or changed in the engine.
  absl::Status SyncCaps(std::vector<CounterSeries>& new_series)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  // Loads into the engine the stored acknowledgements it does not know yet.
  void ApplyAcknowledgements(std::vector<Acknowledgement> stored)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  // new_series: series to read in full (ignored when the whole read is).
  absl::Status SyncCounters(bool read_in_full, std::vector<CounterSeries> new_series)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  // Reads every counter of `series` (a new cap's) into the engine.
  void SyncSeries(const std::vector<CounterSeries>& series)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);
  // Hourly: drops closed periods' counters from the engine and their rows from storage.
  void PruneClosedPeriods(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(refresh_mu_);

  BudgetEngine& engine_;
  BudgetRepository& repository_;
  const Clock& clock_;
  BudgetObserver* const observer_;
  ReservationSharing* const sharing_;
  std::atomic<int64_t> invalid_caps_skipped_{0};
  const absl::Duration full_counter_read_interval_;
  // Refreshes run one at a time; the caps version of the last cap sync (-1: none yet).
  absl::Mutex refresh_mu_;
  int64_t synced_caps_version_ ABSL_GUARDED_BY(refresh_mu_) = -1;
  // The last applied counter read: its change mark (nullopt: read in full next), this
  // replica's local totals it was taken with, and when the next full read is due.
  std::optional<std::string> counters_mark_ ABSL_GUARDED_BY(refresh_mu_);
  std::vector<CounterTotals> counters_baseline_ ABSL_GUARDED_BY(refresh_mu_);
  absl::Time next_full_counter_read_ ABSL_GUARDED_BY(refresh_mu_) = absl::InfinitePast();
  absl::Time next_counter_prune_ ABSL_GUARDED_BY(refresh_mu_) = absl::InfinitePast();
  // The mark of the last acknowledgements read (nullopt: read them all next).
  std::optional<std::string> acks_mark_ ABSL_GUARDED_BY(refresh_mu_);
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_BUDGET_COORDINATOR_H_
