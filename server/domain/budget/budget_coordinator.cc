#include "server/domain/budget/budget_coordinator.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "server/domain/budget/period.h"

namespace stepledger::domain::budget {
namespace {

bool SameCap(const Cap& a, const Cap& b) {
  return a.id == b.id && a.scope == b.scope && a.key == b.key &&
         a.environment == b.environment && a.period == b.period &&
         a.limit_nano_usd == b.limit_nano_usd && a.action == b.action &&
         a.alert_threshold_bps == b.alert_threshold_bps && a.owner == b.owner &&
         a.signed_off_by == b.signed_off_by && a.shadow == b.shadow;
}

// Counters of the current and the previous month are kept (late events land in the previous
// month's counters for a while after it ends).
absl::Time CountersSince(absl::Time now) {
  const absl::CivilMonth month = absl::ToCivilMonth(now, absl::UTCTimeZone());
  return absl::FromCivil(month - 1, absl::UTCTimeZone());
}

}  // namespace

BudgetCoordinator::BudgetCoordinator(BudgetEngine& engine, BudgetRepository& repository,
                                     const Clock& clock, BudgetObserver* observer)
    : engine_(engine), repository_(repository), clock_(clock), observer_(observer) {}

std::string BudgetCoordinator::ReservationKey(std::string_view run_id, std::string_view step_id) {
  return absl::StrCat(std::string(run_id), "/", std::string(step_id));
}

absl::Status BudgetCoordinator::Start() { return Refresh(); }

absl::Status BudgetCoordinator::Refresh() {
  absl::MutexLock lock(&refresh_mu_);
  if (absl::Status s = SyncCaps(); !s.ok()) return s;
  if (absl::Status s = SyncAcknowledgements(); !s.ok()) return s;
  if (absl::Status s = SyncCounters(); !s.ok()) return s;
  engine_.ExpireReservations(clock_.Now());
  if (observer_ != nullptr) observer_->OnRefresh(engine_);
  return absl::OkStatus();
}

absl::Status BudgetCoordinator::SyncCaps() {
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
    // A row the engine refuses (edited by hand, say) must not stop every other cap from being
    // enforced: it is skipped and counted, and PutBudget never writes such a row.
    if (absl::StatusOr<Cap> r = engine_.UpsertCap(std::move(cap)); !r.ok()) {
      ++invalid_caps_skipped_;
    }
  }
  for (const auto& [id, cap] : not_stored) {
    engine_.DeleteCap(std::string_view(id.data(), id.size())).IgnoreError();  // deleted elsewhere
  }
  synced_caps_version_ = *version;
  return absl::OkStatus();
}

absl::Status BudgetCoordinator::SyncAcknowledgements() {
  absl::StatusOr<std::vector<Acknowledgement>> stored = repository_.LoadAcknowledgements();
  if (!stored.ok()) return stored.status();
  absl::flat_hash_set<std::string> known;
  for (const Acknowledgement& a : engine_.ListAcknowledgements("")) known.insert(a.id);
  for (Acknowledgement& ack : *stored) {
    if (known.contains(ack.id)) continue;  // keep the engine's consumption of known ones
    if (!engine_.GetCap(ack.cap_id).has_value()) continue;  // cap deleted: audit only
    engine_.LoadAcknowledgement(std::move(ack)).IgnoreError();
  }
  return absl::OkStatus();
}

absl::Status BudgetCoordinator::SyncCounters() {
  // Baseline first: whatever this replica recorded locally before the read is in the totals.
  std::vector<CounterTotals> baseline = engine_.ExportLocalCounters();
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::vector<CounterTotals>> totals =
      repository_.ReadCounterTotals(CountersSince(now));
  if (!totals.ok()) return totals.status();
  return engine_.ApplyFullSnapshot(SharedSnapshot{now, std::move(*totals)}, baseline);
}

absl::StatusOr<CheckResult> BudgetCoordinator::Check(CheckRequest request) {
  const absl::Time start = clock_.Now();
  if (request.reserve && !request.step_id.empty()) {
    request.step_id = ReservationKey(request.tags.parent_run_id, request.step_id);
  }
  absl::StatusOr<CheckResult> result = engine_.Check(request);
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
  absl::StatusOr<Cap> stored = engine_.UpsertCap(cap);
  // The back-filled counters are visible after the next refresh; do one now so a check right
  // after PutBudget sees the period's spend.
  SyncCounters().IgnoreError();
  return stored;
}

absl::Status BudgetCoordinator::DeleteCap(const std::string& cap_id,
                                          const std::string& changed_by) {
  if (changed_by.empty()) return absl::InvalidArgumentError("changed_by: required (audit)");
  if (absl::Status s = repository_.DeleteCap(cap_id, changed_by); !s.ok()) return s;
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
  if (principal.empty()) return absl::InvalidArgumentError("principal: who acknowledges is required");
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
  for (size_t i = 0; i < items.size(); ++i) {
    if (outcomes[i] != ingest::Outcome::kAccepted) continue;  // re-sends never count twice
    const ingest::IngestItem& item = *items[i];
    if (!item.cost_nano_usd.has_value()) continue;
    engine_
        .RecordSpend(item.charged, *item.cost_nano_usd, item.occurred_at(),
                     ReservationKey(item.step.tags.parent_run_id, item.step.step_id))
        .IgnoreError();
  }
}

}  // namespace stepledger::domain::budget
