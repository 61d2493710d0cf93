#include "server/domain/budget/budget_coordinator.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/domain/budget/period.h"

namespace stepledger::domain::budget {
namespace {

bool SameCap(const Cap& a, const Cap& b) {
  return SameSettings(a, b) && a.signed_off_by == b.signed_off_by && a.revision == b.revision &&
         a.changed_by == b.changed_by;
}

// Counters of periods that ended less than this long ago are still read and kept: a check
// only reads the current periods', but a late event may still charge yesterday's for a while.
constexpr absl::Duration kLateEventGrace = absl::Hours(24);
// How often a replica drops the counters of periods no longer read, from the engine and from
// storage, and how many stored rows at most per refresh (a larger backlog is worked off one
// refresh at a time).
constexpr absl::Duration kCounterPruneInterval = absl::Hours(1);
constexpr int64_t kCounterPruneBatch = 10'000;

absl::Time CountersSince(absl::Time now) { return now - kLateEventGrace; }

// BudgetCoordinator::ReservationKey into `key`, reusing its memory: the write path builds one
// per committed step, and allocating it each time was a visible part of the collector's CPU.
void AssignReservationKey(std::string_view run_id, std::string_view step_id, std::string& key) {
  key.clear();
  key.reserve(run_id.size() + 1 + step_id.size());
  key.append(run_id).append(1, '/').append(step_id);
}

// The counters whose local totals differ between two exports (rows in any order), i.e.
// those this replica charged or released in between.
std::vector<CounterKey> MovedLocalCounters(absl::Span<const CounterTotals> before,
                                           absl::Span<const CounterTotals> after) {
  absl::flat_hash_map<CounterKeyRef, const CounterTotals*, CounterKeyHash, CounterKeyEq> old;
  old.reserve(before.size());
  for (const CounterTotals& t : before) old.emplace(CounterKeyRef::Of(t.key), &t);
  std::vector<CounterKey> moved;
  for (const CounterTotals& t : after) {
    auto it = old.find(CounterKeyRef::Of(t.key));
    if (it == old.end()) {
      moved.push_back(t.key);
      continue;
    }
    if (it->second->spent != t.spent || it->second->reserved != t.reserved) moved.push_back(t.key);
    old.erase(it);
  }
  for (const auto& [ref, t] : old) moved.push_back(t->key);
  return moved;
}

}  // namespace

BudgetCoordinator::BudgetCoordinator(BudgetEngine& engine, BudgetRepository& repository,
                                     const Clock& clock, BudgetObserver* observer,
                                     absl::Duration full_counter_read_interval,
                                     ReservationSharing* sharing)
    : engine_(engine),
      repository_(repository),
      clock_(clock),
      observer_(observer),
      sharing_(sharing),
      full_counter_read_interval_(full_counter_read_interval) {}

std::string BudgetCoordinator::ReservationKey(std::string_view run_id, std::string_view step_id) {
  std::string key;
  AssignReservationKey(run_id, step_id, key);
  return key;
}

absl::Status BudgetCoordinator::Start() { return Refresh(); }

absl::Status BudgetCoordinator::Refresh() {
  absl::MutexLock lock(&refresh_mu_);
  const absl::Status status = RefreshRound();
  if (observer_ != nullptr) {
    const std::optional<absl::Time> as_of = engine_.CountersAsOf();
    observer_->OnCountersAge(
        as_of.has_value() ? std::optional<absl::Duration>(clock_.Now() - *as_of) : std::nullopt);
  }
  return status;
}

absl::Status BudgetCoordinator::RefreshRound() {
  // Acknowledgements are read before the caps. An acknowledgement names a cap stored before
  // it, so the caps read after it knows that cap (unless it was deleted since). Read the other
  // way round, an acknowledgement of a cap this replica has not synced yet would be skipped,
  // and an incremental read would never return it again.
  absl::StatusOr<AcknowledgementsRead> acks =
      repository_.LoadAcknowledgements(acks_mark_.has_value() ? &*acks_mark_ : nullptr);
  std::vector<CounterSeries> new_series;
  absl::Status synced = acks.status();
  if (synced.ok()) synced = SyncCaps(new_series);
  if (!synced.ok()) {
    // See SyncCounters: the database may not be the same one, so read everything next time.
    counters_mark_.reset();
    acks_mark_.reset();
    return synced;
  }
  ApplyAcknowledgements(std::move(acks->acks));
  acks_mark_ = std::move(acks->next_mark);
  // Shared reservations are read before the counters and applied after them: a row settled by
  // a step stored elsewhere was committed before this read, so the counters read next count
  // that step, and its hold goes only once they do (over-counting in between, never under).
  std::vector<SharedReservation> reservations;
  if (sharing_ != nullptr) {
    absl::StatusOr<std::vector<SharedReservation>> read = sharing_->Read();
    if (!read.ok()) return read.status();
    reservations = *std::move(read);
  }
  // Counters of a newly watched series may have rows of any age (writers count every key), so
  // the read takes those series in full; nothing else about a cap change concerns counters.
  if (absl::Status s = SyncCounters(/*read_in_full=*/false, std::move(new_series)); !s.ok()) {
    if (sharing_ != nullptr) sharing_->ResetMark();  // the rows read were not applied
    return s;
  }
  const absl::Time now = clock_.Now();
  if (sharing_ != nullptr) {
    sharing_->Apply(reservations);
    sharing_->Upkeep(now);
  }
  engine_.ExpireReservations(now);
  PruneClosedPeriods(now);
  if (observer_ != nullptr) observer_->OnRefresh(engine_);
  return absl::OkStatus();
}

void BudgetCoordinator::PruneClosedPeriods(absl::Time now) {
  if (now < next_counter_prune_) return;
  // Counters of periods that ended before the grace began are read by no replica any more.
  // Hourly: the engine's pruning walks every counter, and a day's grace makes an hour nothing.
  const absl::Time since = CountersSince(now);
  engine_.PruneClosedPeriods(since);
  absl::StatusOr<int64_t> pruned = repository_.PruneCounters(
      PeriodStart(Period::kDaily, since), PeriodStart(Period::kMonthly, since), kCounterPruneBatch);
  // A full batch: more is left, prune again on the next refresh. A failure: try again later.
  next_counter_prune_ =
      pruned.ok() && *pruned >= kCounterPruneBatch ? now : now + kCounterPruneInterval;
}

absl::Status BudgetCoordinator::SyncCaps(std::vector<CounterSeries>& new_series) {
  // The version first: a change committed after this read has a newer version, so the next
  // refresh reads it even if the caps read below already saw it.
  absl::StatusOr<int64_t> version = repository_.CapsVersion();
  if (!version.ok()) return version.status();
  if (*version >= 0 && *version == synced_caps_version_) return absl::OkStatus();
  absl::StatusOr<std::vector<Cap>> stored = repository_.LoadCaps();
  if (!stored.ok()) return stored.status();
  // Runs every second over every cap: compare against the engine's own caps (shared, not
  // copied) and touch the engine only for what changed.
  const std::vector<std::shared_ptr<const Cap>> in_engine = engine_.CapSnapshot();
  absl::flat_hash_map<absl::string_view, const Cap*> not_stored;  // what is left is deleted
  not_stored.reserve(in_engine.size());
  for (const auto& cap : in_engine) not_stored.emplace(absl::string_view(cap->id), cap.get());
  for (Cap& cap : *stored) {
    auto it = not_stored.find(absl::string_view(cap.id));
    const bool unchanged = it != not_stored.end() && SameCap(*it->second, cap);
    if (it != not_stored.end()) not_stored.erase(it);
    if (unchanged) continue;
    const CounterSeries series = SeriesOf(cap);
    // A row the engine refuses (edited by hand, say) must not stop every other cap from being
    // enforced: it is skipped and counted, and PutBudget never writes such a row.
    if (absl::StatusOr<Cap> r = engine_.UpsertCap(std::move(cap)); !r.ok()) {
      ++invalid_caps_skipped_;
      continue;
    }
    new_series.push_back(series);
  }
  for (const auto& [id, cap] : not_stored) {
    engine_.DeleteCap(std::string_view(id.data(), id.size())).IgnoreError();  // deleted elsewhere
  }
  synced_caps_version_ = *version;
  return absl::OkStatus();
}

void BudgetCoordinator::ApplyAcknowledgements(std::vector<Acknowledgement> stored) {
  if (stored.empty()) return;  // the usual case since reads are incremental
  absl::flat_hash_set<std::string> known;
  for (const Acknowledgement& a : engine_.ListAcknowledgements("")) known.insert(a.id);
  for (Acknowledgement& ack : stored) {
    if (known.contains(ack.id)) continue;  // keep the engine's consumption of known ones
    if (!engine_.GetCap(ack.cap_id).has_value()) continue;  // cap deleted: audit only
    engine_.LoadAcknowledgement(std::move(ack)).IgnoreError();
  }
}

absl::Status BudgetCoordinator::SyncCounters(bool read_in_full,
                                             std::vector<CounterSeries> new_series) {
  // Baseline first: whatever this replica recorded locally before the read is in the totals.
  std::vector<CounterTotals> baseline = engine_.ExportLocalCounters();
  const absl::Time now = clock_.Now();
  read_in_full = read_in_full || !counters_mark_.has_value() || now >= next_full_counter_read_;
  // Reading every counter every second costs an idle collector (and PostgreSQL) a few percent
  // of a core with 10,000 caps, and a busy one the same share of its checks. A counter whose
  // rows did not change since the last read keeps what that read made of it, with two
  // exceptions the incremental read covers:
  //   - rows changed by a transaction the last read could not see (the repository's
  //     contract);
  //   - counters this replica charged between taking the last baseline and that read
  //     committing: the read counted the charge as another replica's (totals - baseline), and
  //     its rows may not change again. Their local totals have moved since that baseline, so
  //     they are read again now and come out right.
  ChangedCounters changed;
  if (!read_in_full) {
    changed.since_mark = *counters_mark_;
    changed.keys = MovedLocalCounters(counters_baseline_, baseline);
    changed.new_series = std::move(new_series);
  }
  absl::StatusOr<CounterTotalsRead> read =
      repository_.ReadCounterTotals(CountersSince(now), read_in_full ? nullptr : &changed);
  if (!read.ok()) {
    // The next read is in full. A mark is only meaningful in the database that issued it, and a
    // failed call is how a restored or replaced database shows itself (Refresh does the same
    // when an earlier step fails).
    counters_mark_.reset();
    return read.status();
  }
  const size_t rows = read->rows.size();
  if (absl::Status s =
          engine_.ApplyFullSnapshot(SharedSnapshot{now, std::move(read->rows)}, baseline);
      !s.ok()) {
    return s;
  }
  // Every watched counter now holds all replicas' spend as of `now` (taken before the read):
  // what a check's staleness is measured from.
  engine_.MarkCountersCurrent(now);
  counters_mark_ = read->next_mark;
  counters_baseline_ = std::move(baseline);
  if (read_in_full) next_full_counter_read_ = now + full_counter_read_interval_;
  if (observer_ != nullptr) observer_->OnCounterRead(read_in_full, rows);
  return absl::OkStatus();
}

absl::StatusOr<CheckResult> BudgetCoordinator::Check(CheckRequest request) {
  const absl::Time start = clock_.Now();
  std::string step_id;
  if (request.reserve && !request.step_id.empty()) {
    step_id =
        std::exchange(request.step_id, ReservationKey(request.tags.parent_run_id, request.step_id));
  }
  absl::StatusOr<CheckResult> result = engine_.Check(request);
  if (sharing_ != nullptr && result.ok() && !result->reservation_id.empty()) {
    sharing_->OnReserved(request.tags, step_id, request.step_id, result->reservation_id);
  }
  if (observer_ != nullptr) {
    if (result.ok()) {
      observer_->OnCheck(*result, clock_.Now() - start);
    } else {
      observer_->OnCheckRejected();
    }
  }
  return result;
}

absl::StatusOr<Cap> BudgetCoordinator::PutCap(Cap cap, const std::string& changed_by) {
  if (changed_by.empty()) return absl::InvalidArgumentError("changed_by: required (audit)");
  cap = ApplyCapDefaults(std::move(cap));
  if (absl::Status s = ValidateCap(cap); !s.ok()) return s;
  if (absl::Status s = repository_.PutCap(cap, changed_by, clock_.Now()); !s.ok()) return s;
  return AdoptStoredCap(std::move(cap));
}

absl::StatusOr<Cap> BudgetCoordinator::AdoptStoredCap(Cap cap) {
  absl::StatusOr<Cap> stored = engine_.UpsertCap(std::move(cap));
  if (!stored.ok()) return stored;
  // The cap's counters are in storage already (writers count every key); read them now, so a
  // check right after PutBudget sees the period's spend.
  absl::MutexLock lock(&refresh_mu_);
  SyncSeries({SeriesOf(*stored)});
  return stored;
}

void BudgetCoordinator::SyncSeries(const std::vector<CounterSeries>& series) {
  // As SyncCounters, for a few series: this replica's own part taken before the read, so that
  // totals - own part is the others' (over-counting own commits made during the read until the
  // next refresh re-reads the counters they moved). One index probe per series, no lock a
  // writer needs: a cap change costs milliseconds. The refresh's next incremental read takes
  // the series' later changes (its cap is stored, so the series is watched).
  const std::vector<CounterTotals> baseline = engine_.ExportLocalCounters();
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::vector<CounterTotals>> rows =
      repository_.ReadSeriesTotals(CountersSince(now), series);
  absl::Status applied = rows.status();
  if (applied.ok()) applied = engine_.ApplyFullSnapshot({now, *std::move(rows)}, baseline);
  if (!applied.ok()) {
    // The series' older rows would never come in an incremental read: read everything next.
    counters_mark_.reset();
  }
}

absl::Status BudgetCoordinator::DeleteCap(const std::string& cap_id,
                                          const std::string& changed_by) {
  if (changed_by.empty()) return absl::InvalidArgumentError("changed_by: required (audit)");
  if (absl::Status s = repository_.DeleteCap(cap_id, changed_by); !s.ok()) return s;
  return ForgetCap(cap_id);
}

absl::Status BudgetCoordinator::ForgetCap(const std::string& cap_id) {
  absl::Status s = engine_.DeleteCap(cap_id);
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

absl::StatusOr<Acknowledgement> BudgetCoordinator::Acknowledge(const std::string& cap_id,
                                                               const std::string& principal,
                                                               const std::string& reason,
                                                               NanoUsd extra_headroom,
                                                               absl::Time expires_at) {
  const absl::Time now = clock_.Now();
  if (!engine_.GetCap(cap_id).has_value()) {
    return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", cap_id, "\""));
  }
  if (principal.empty())
    return absl::InvalidArgumentError("principal: who acknowledges is required");
  if (reason.empty()) return absl::InvalidArgumentError("reason: why is required");
  if (extra_headroom <= 0 || extra_headroom > kMaxLimitNanoUsd) {
    return absl::InvalidArgumentError("extra_headroom_nano_usd: must be positive and at most $1e9");
  }
  if (expires_at <= now) return absl::InvalidArgumentError("expires_at: must be in the future");
  Acknowledgement ack;
  // Unique across replicas and restarts without coordination: time + random.
  ack.id = absl::StrFormat("ack-%d-%08x", absl::ToUnixMillis(now),
                           absl::Uniform<uint32_t>(absl::BitGen()));
  ack.cap_id = cap_id;
  ack.principal = principal;
  ack.reason = reason;
  ack.extra_headroom = extra_headroom;
  ack.created_at = now;
  ack.expires_at = expires_at;
  // Stored before it is enforced: the audit trail is never behind the engine.
  if (absl::Status s = repository_.InsertAcknowledgement(ack); !s.ok()) return s;
  if (absl::Status s = engine_.LoadAcknowledgement(ack); !s.ok()) return s;
  if (observer_ != nullptr) observer_->OnAcknowledgement();
  return ack;
}

std::vector<Acknowledgement> BudgetCoordinator::ListAcknowledgements(
    const std::string& cap_id) const {
  return engine_.ListAcknowledgements(cap_id);
}

void BudgetCoordinator::OnGroupCommitted(absl::Span<const ingest::IngestItem* const> items,
                                         absl::Span<const ingest::Outcome> outcomes,
                                         absl::Duration latency) {
  std::string key;  // one buffer for the group's reservation keys
  for (size_t i = 0; i < items.size(); ++i) {
    if (outcomes[i] != ingest::Outcome::kAccepted) continue;  // re-sends never count twice
    const ingest::IngestItem& item = *items[i];
    if (!item.cost_nano_usd.has_value()) continue;
    AssignReservationKey(item.step.tags.parent_run_id, item.step.step_id, key);
    engine_.RecordSpend(item.charged, *item.cost_nano_usd, item.occurred_at(), key).IgnoreError();
  }
}

}  // namespace stepledger::domain::budget
