#include "server/domain/budget/engine.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "server/domain/budget/decision.h"
#include "server/domain/budget/period.h"
#include "server/domain/budget/string_key.h"

namespace stepledger::domain::budget {
namespace {

constexpr std::array<Period, 2> kPeriods = {Period::kDaily, Period::kMonthly};

// A period's bit in KeyCaps::periods: 1 << (its index in kPeriods).
uint8_t PeriodBit(Period p) { return p == Period::kDaily ? 1 : 2; }

// The four tiers a step is charged to, with the tag that keys each. An empty key (a missing tag
// outside production, or a quarantined step) matches no cap and charges no counter of that
// tier; the org tier always applies.
struct TierKey {
  Scope scope;
  std::string_view key;
};
std::array<TierKey, 4> TierKeys(const Tags& tags) {
  return {{{Scope::kFeature, tags.feature},
           {Scope::kTeam, tags.team},
           {Scope::kTenant, tags.tenant},
           {Scope::kOrg, kOrgKey}}};
}

// The period starts and ends of one instant, computed once per call: the monthly one needs a
// civil-time conversion, which is the most expensive arithmetic on the check path.
struct Periods {
  explicit Periods(absl::Time t)
      : daily_start(PeriodStart(Period::kDaily, t)),
        monthly_start(PeriodStart(Period::kMonthly, t)),
        daily_end(daily_start + absl::Hours(24)),
        monthly_end(PeriodEnd(Period::kMonthly, t)) {}
  absl::Time start(Period p) const { return p == Period::kDaily ? daily_start : monthly_start; }
  absl::Time end(Period p) const { return p == Period::kDaily ? daily_end : monthly_end; }

  absl::Time daily_start, monthly_start, daily_end, monthly_end;
};

// Tie-break between caps with equal decisions: the tiers that need a human first.
int TierRank(Scope s) {
  switch (s) {
    case Scope::kOrg: return 4;
    case Scope::kTeam: return 3;
    case Scope::kTenant: return 2;
    case Scope::kFeature: return 1;
    case Scope::kUnspecified: break;
  }
  return 0;
}

void Prefetch(const void* p) {
  if (p != nullptr) __builtin_prefetch(p);
}

bool IsFinite(absl::Time t) { return t != absl::InfinitePast() && t != absl::InfiniteFuture(); }

std::string RandomInstanceId() {
  absl::BitGen gen;
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
}

absl::Status ValidateCounterKey(const CounterKey& key, std::string_view field) {
  if (key.scope == Scope::kUnspecified || !IsValidScopeKey(key.scope, key.key)) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ".scope/key: invalid"));
  }
  if (key.environment == Environment::kUnspecified) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ".environment: required"));
  }
  if (key.period == Period::kUnspecified) {
    return absl::InvalidArgumentError(absl::StrCat(AbslView(field), ".period: required"));
  }
  if (!IsFinite(key.period_start) || PeriodStart(key.period, key.period_start) != key.period_start) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(field), ".period_start: not the start of a ",
                     AbslView(ToString(key.period)), " period"));
  }
  return absl::OkStatus();
}

}  // namespace

BudgetEngine::BudgetEngine(const Clock& clock, EngineOptions options)
    : clock_(clock),
      options_(std::move(options)),
      instance_id_(options_.instance_id.empty() ? RandomInstanceId() : options_.instance_id),
      reservations_(instance_id_) {}

// ---------------------------------------------------------------------------------------------
// Caps

absl::StatusOr<Cap> BudgetEngine::UpsertCap(Cap cap) {
  cap = ApplyCapDefaults(std::move(cap));
  if (absl::Status s = ValidateCap(cap); !s.ok()) return s;
  auto stored = std::make_shared<const Cap>(cap);
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = caps_.try_emplace(cap.id, stored);
  if (!inserted) {
    RemoveFromIndex(*it->second);
    it->second = stored;
  }
  KeyCaps& on_key = index_[static_cast<size_t>(cap.scope)][cap.key];
  on_key.caps.push_back(std::move(stored));
  on_key.periods |= PeriodBit(cap.period);
  return cap;
}

BudgetEngine::KeyCaps* BudgetEngine::IndexEntry(Scope scope, std::string_view key) {
  auto& by_key = index_[static_cast<size_t>(scope)];
  auto it = by_key.find(AbslView(key));
  return it == by_key.end() ? nullptr : &it->second;
}

Counter& BudgetEngine::CounterFor(const CounterKeyRef& key, KeyCaps* entry) {
  if (entry == nullptr) return counters_.FindOrCreate(key);
  KeyCaps::CounterSlot& slot = entry->current[key.period == Period::kDaily ? 0 : 1];
  // The remembered counter spares the counter table's lookup on the writer's path too.
  if (slot.counter != nullptr && slot.environment == key.environment &&
      slot.period_start == key.period_start) {
    return *slot.counter;
  }
  Counter& counter = counters_.FindOrCreate(key);
  // The newest period wins: a late event for an earlier period must not displace the counter
  // that current checks read.
  if (slot.counter == nullptr || key.period_start >= slot.period_start) {
    slot = {&counter, key.environment, key.period_start};
  }
  return counter;
}

void BudgetEngine::RemoveFromIndex(const Cap& cap) {
  auto& by_key = index_[static_cast<size_t>(cap.scope)];
  auto it = by_key.find(cap.key);
  if (it == by_key.end()) return;
  auto& list = it->second.caps;
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const auto& c) { return c->id == cap.id; }),
             list.end());
  if (list.empty()) {
    by_key.erase(it);
    return;
  }
  it->second.periods = 0;
  for (const auto& c : list) it->second.periods |= PeriodBit(c->period);
}

absl::Status BudgetEngine::DeleteCap(std::string_view cap_id) {
  absl::MutexLock lock(&mu_);
  auto it = caps_.find(AbslView(cap_id));
  if (it == caps_.end()) {
    return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", AbslView(cap_id), "\""));
  }
  RemoveFromIndex(*it->second);
  caps_.erase(it);
  return absl::OkStatus();
}

std::vector<Cap> BudgetEngine::ListCaps() const {
  std::vector<Cap> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    out.reserve(caps_.size());
    for (const auto& [id, cap] : caps_) out.push_back(*cap);
  }
  std::sort(out.begin(), out.end(), [](const Cap& a, const Cap& b) { return a.id < b.id; });
  return out;
}

std::optional<Cap> BudgetEngine::GetCap(std::string_view cap_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = caps_.find(AbslView(cap_id));
  if (it == caps_.end()) return std::nullopt;
  return *it->second;
}

std::vector<std::shared_ptr<const Cap>> BudgetEngine::CapSnapshot() const {
  std::vector<std::shared_ptr<const Cap>> out;
  absl::ReaderMutexLock lock(&mu_);
  out.reserve(caps_.size());
  for (const auto& [id, cap] : caps_) out.push_back(cap);
  return out;
}

std::vector<CapSpend> BudgetEngine::SpendPerCap(absl::Time now) const {
  const Periods periods(now);
  std::vector<CapSpend> out;
  absl::ReaderMutexLock lock(&mu_);
  out.reserve(caps_.size());
  for (const auto& [id, cap] : caps_) {
    CapSpend& s = out.emplace_back();
    s.cap = cap;
    s.period_end = periods.end(cap->period);
    if (const Counter* c = counters_.Find(
            {cap->scope, cap->key, cap->environment, cap->period, periods.start(cap->period)})) {
      s.spent = c->spent();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Check

absl::StatusOr<CheckResult> BudgetEngine::Check(const CheckRequest& request) {
  if (absl::Status s = ValidateCheckRequest(request); !s.ok()) return s;
  const absl::Time now = request.now.has_value() ? *request.now : clock_.Now();
  CheckResult result;
  if (!request.reserve) {
    absl::ReaderMutexLock lock(&mu_);
    Evaluate(request, now, result);
    return result;
  }

  absl::MutexLock lock(&mu_);
  if (reservations_.WasSettled(request.step_id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("step_id: \"", request.step_id, "\" has already committed and settled"));
  }
  // A retried check replaces its own earlier hold rather than adding a second one.
  reservations_.Cancel(request.step_id);
  std::array<const KeyCaps*, 4> entries{};  // Indexed like TierKeys().
  Evaluate(request, now, result, &entries);
  // A step told to stop (or to ask a human) holds nothing; its retry after an
  // acknowledgement reserves then.
  if (result.decision == Decision::kRequireAck) return result;

  const Periods periods(now);
  HeldCounters held;
  const std::array<TierKey, 4> tiers = TierKeys(request.tags);
  for (size_t t = 0; t < tiers.size(); ++t) {
    if (tiers[t].key.empty()) continue;
    // Evaluate already found the tier's index entry; the exclusive lock is held, so writing
    // to it (the remembered counters) is allowed.
    KeyCaps* entry = const_cast<KeyCaps*>(entries[t]);
    for (Period p : kPeriods) {
      held.push_back(&CounterFor(
          {tiers[t].scope, tiers[t].key, request.tags.environment, p, periods.start(p)}, entry));
    }
  }
  const Reservation& r = reservations_.Add(request.step_id, request.estimated_cost_nano_usd,
                                           now, options_.reservation_ttl, std::move(held));
  ++reservations_made_;
  result.reservation_id = r.id;
  return result;
}

void BudgetEngine::Evaluate(const CheckRequest& request, absl::Time now, CheckResult& result,
                            std::array<const KeyCaps*, 4>* entries) const {
  const Environment env = request.tags.environment;
  const NanoUsd estimate = request.estimated_cost_nano_usd;
  const Periods periods(now);
  const std::array<TierKey, 4> tiers = TierKeys(request.tags);

  // With thousands of caps nearly every pointer below is a cache miss. The lookups run in
  // stages, each issuing the next stage's loads for all tiers before using any of them, so the
  // memory system serves the misses of the four tiers in parallel rather than one after another
  // (this cuts the cold-cache latency of a check by more than half).
  struct Tier {
    const KeyCaps* caps = nullptr;
    std::array<const Counter*, 2> counters{};  // Indexed like kPeriods.
  };
  std::array<Tier, 4> found;
  size_t candidates = 0;
  for (const TierKey& tier : tiers) {
    if (tier.key.empty()) continue;
    index_[static_cast<size_t>(tier.scope)].prefetch(AbslView(tier.key));
  }
  for (size_t t = 0; t < tiers.size(); ++t) {
    if (tiers[t].key.empty()) continue;
    const auto& by_key = index_[static_cast<size_t>(tiers[t].scope)];
    auto it = by_key.find(AbslView(tiers[t].key));
    if (it == by_key.end()) continue;
    const KeyCaps& entry = it->second;
    found[t].caps = &entry;
    if (entries != nullptr) (*entries)[t] = &entry;
    candidates += entry.caps.size();
    for (const std::shared_ptr<const Cap>& cap : entry.caps) Prefetch(cap.get());
    for (size_t p = 0; p < kPeriods.size(); ++p) {
      // Only the periods some cap on this key watches: the other counter is never read.
      if ((entry.periods & PeriodBit(kPeriods[p])) == 0) continue;
      const absl::Time start = periods.start(kPeriods[p]);
      const KeyCaps::CounterSlot& slot = entry.current[p];
      found[t].counters[p] =
          slot.counter != nullptr && slot.environment == env && slot.period_start == start
              ? slot.counter
              : counters_.Find({tiers[t].scope, tiers[t].key, env, kPeriods[p], start});
      Prefetch(found[t].counters[p]);
    }
  }

  result.caps.reserve(candidates);
  for (size_t t = 0; t < tiers.size(); ++t) {
    if (found[t].caps == nullptr) continue;
    for (const std::shared_ptr<const Cap>& cap : found[t].caps->caps) {
      if (cap->environment != env) continue;
      CapStatus& st = result.caps.emplace_back();
      st.cap = cap;
      st.period_start = periods.start(cap->period);
      st.period_end = periods.end(cap->period);
      if (const Counter* c = found[t].counters[cap->period == Period::kDaily ? 0 : 1]) {
        st.spent = c->spent();
        st.reserved = c->reserved();
        st.burn_rate_per_hour = c->burn.LastHour(now);
      }
      // Acknowledgements only change REQUIRE_ACK caps (an alert-only cap never blocks), so
      // the others skip the lookup and report no acknowledged headroom.
      const AckHeadroom ack =
          cap->action == Action::kRequireAck ? acks_.HeadroomAt(cap->id, now) : AckHeadroom{};
      st.acknowledged_headroom = ack.remaining;
      // Mirrors DecideCap: with live headroom only new spend past the limit draws on it.
      st.remaining = ack.remaining > 0
                         ? std::max(cap->limit_nano_usd, st.spent) - st.spent - st.reserved +
                               ack.remaining
                         : cap->limit_nano_usd - st.spent - st.reserved;
      st.projected_exhaustion =
          ProjectExhaustion(st.remaining, st.burn_rate_per_hour, now, st.period_end);
      st.decision = DecideCap(*cap, st.spent, st.reserved, estimate, ack);
    }
  }

  const CapStatus* decider = nullptr;
  for (const CapStatus& st : result.caps) {
    if (st.cap->shadow || st.decision == Decision::kAllow) continue;
    if (decider == nullptr || st.decision > decider->decision ||
        (st.decision == decider->decision &&
         (TierRank(st.cap->scope) > TierRank(decider->cap->scope) ||
          (st.cap->scope == decider->cap->scope && st.cap->id < decider->cap->id)))) {
      decider = &st;
    }
  }
  if (decider != nullptr) {
    result.decision = decider->decision;
    result.deciding_scope = decider->cap->scope;
    result.deciding_cap_id = decider->cap->id;
  }
}

// ---------------------------------------------------------------------------------------------
// Spend, reservations

absl::StatusOr<SpendOutcome> BudgetEngine::RecordSpend(const Tags& charged, NanoUsd cost,
                                                       absl::Time occurred_at,
                                                       std::string_view step_id) {
  if (charged.environment == Environment::kUnspecified) {
    return absl::InvalidArgumentError("tags.environment: required");
  }
  if (cost < 0 || cost > kMaxLimitNanoUsd) {
    return absl::InvalidArgumentError(
        absl::StrCat("cost_nano_usd: must be in [0, ", kMaxLimitNanoUsd, "]"));
  }
  if (!IsFinite(occurred_at)) return absl::InvalidArgumentError("occurred_at: must be finite");
  const absl::Time now = clock_.Now();
  const Periods periods(occurred_at);

  absl::MutexLock lock(&mu_);
  SpendOutcome outcome = SpendOutcome::kCounted;
  if (!step_id.empty()) {
    switch (reservations_.Settle(step_id, now, options_.reservation_ttl)) {
      case ReservationBook::SettleResult::kAlreadySettled:
        ++duplicate_settles_;
        return SpendOutcome::kDuplicateSettle;
      case ReservationBook::SettleResult::kSettled:
        ++reservations_settled_;
        outcome = SpendOutcome::kCountedAndSettled;
        break;
      case ReservationBook::SettleResult::kNoReservation:
        break;
    }
  }
  for (const TierKey& tier : TierKeys(charged)) {
    if (tier.key.empty()) continue;
    KeyCaps* entry = IndexEntry(tier.scope, tier.key);
    for (Period p : kPeriods) {
      const CounterKeyRef ref{tier.scope, tier.key, charged.environment, p, periods.start(p)};
      Counter& c = CounterFor(ref, entry);
      const NanoUsd before = c.spent();
      c.local_spent += cost;
      c.burn.Add(occurred_at, cost);
      ConsumeHeadroom(ref, entry, before, c.spent(), occurred_at);
    }
  }
  return outcome;
}

void BudgetEngine::ConsumeHeadroom(const CounterKeyRef& key, const KeyCaps* entry,
                                   NanoUsd before, NanoUsd after, absl::Time at) {
  // Every committed step comes through here for each of its counters; without any
  // acknowledgement there is nothing to consume and no cap to look at.
  if (after <= before || acks_.Empty() || entry == nullptr) return;
  for (const std::shared_ptr<const Cap>& cap : entry->caps) {
    if (cap->environment != key.environment || cap->period != key.period) continue;
    if (!acks_.HasAny(cap->id)) continue;
    acks_.Consume(cap->id, PastLimitGrowth(cap->limit_nano_usd, before, after), at);
  }
}

int BudgetEngine::ExpireReservations(absl::Time now) {
  absl::MutexLock lock(&mu_);
  const int expired = reservations_.Expire(now);
  reservations_expired_ += expired;
  return expired;
}

// ---------------------------------------------------------------------------------------------
// Acknowledgements

absl::StatusOr<Acknowledgement> BudgetEngine::Acknowledge(std::string_view cap_id,
                                                          std::string_view principal,
                                                          std::string_view reason,
                                                          NanoUsd extra_headroom,
                                                          absl::Time expires_at) {
  const absl::Time now = clock_.Now();
  if (principal.empty()) return absl::InvalidArgumentError("principal: required");
  if (reason.empty()) return absl::InvalidArgumentError("reason: required");
  if (extra_headroom <= 0 || extra_headroom > kMaxLimitNanoUsd) {
    return absl::InvalidArgumentError(
        absl::StrCat("extra_headroom: must be in (0, ", kMaxLimitNanoUsd, "]"));
  }
  if (!IsFinite(expires_at) || expires_at <= now) {
    return absl::InvalidArgumentError("expires_at: must be in the future");
  }
  absl::MutexLock lock(&mu_);
  if (!caps_.contains(AbslView(cap_id))) {
    return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", AbslView(cap_id), "\""));
  }
  Acknowledgement ack;
  ack.id = absl::StrCat("ack-", instance_id_, "-", next_ack_seq_++);
  ack.cap_id = std::string(cap_id);
  ack.principal = std::string(principal);
  ack.reason = std::string(reason);
  ack.extra_headroom = extra_headroom;
  ack.created_at = now;
  ack.expires_at = expires_at;
  acks_.Put(ack);
  return ack;
}

absl::Status BudgetEngine::LoadAcknowledgement(Acknowledgement ack) {
  if (ack.id.empty()) return absl::InvalidArgumentError("id: required");
  if (ack.cap_id.empty()) return absl::InvalidArgumentError("cap_id: required");
  if (ack.extra_headroom < 0 || ack.consumed < 0 || ack.consumed > ack.extra_headroom) {
    return absl::InvalidArgumentError("consumed: must be in [0, extra_headroom]");
  }
  absl::MutexLock lock(&mu_);
  acks_.Put(std::move(ack));
  return absl::OkStatus();
}

std::vector<Acknowledgement> BudgetEngine::ListAcknowledgements(std::string_view cap_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return acks_.List(cap_id);
}

// ---------------------------------------------------------------------------------------------
// Recovery and replication

absl::Status BudgetEngine::LoadCounter(const CounterKey& key, NanoUsd spent) {
  if (absl::Status s = ValidateCounterKey(key, "key"); !s.ok()) return s;
  if (spent < 0) return absl::InvalidArgumentError("spent: must not be negative");
  absl::MutexLock lock(&mu_);
  CounterFor(CounterKeyRef::Of(key), IndexEntry(key.scope, key.key)).local_spent = spent;
  return absl::OkStatus();
}

absl::Status BudgetEngine::ApplySharedSnapshot(const SharedSnapshot& snapshot) {
  return ApplyOthers(snapshot, {});
}

absl::Status BudgetEngine::ApplyFullSnapshot(const SharedSnapshot& totals,
                                             absl::Span<const CounterTotals> local_baseline) {
  return ApplyOthers(totals, local_baseline);
}

absl::Status BudgetEngine::ApplyOthers(const SharedSnapshot& snapshot,
                                       absl::Span<const CounterTotals> local_baseline) {
  if (!IsFinite(snapshot.as_of)) return absl::InvalidArgumentError("as_of: must be finite");
  for (size_t i = 0; i < snapshot.rows.size(); ++i) {
    const CounterTotals& row = snapshot.rows[i];
    const std::string field = absl::StrCat("rows[", i, "]");
    if (absl::Status s = ValidateCounterKey(row.key, absl::StrCat(field, ".key")); !s.ok()) {
      return s;
    }
    if (row.spent < 0 || row.reserved < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".spent/reserved: negative"));
    }
  }
  absl::flat_hash_map<CounterKey, const CounterTotals*, CounterKeyHash, CounterKeyEq> baseline;
  baseline.reserve(local_baseline.size());
  for (const CounterTotals& b : local_baseline) baseline[b.key] = &b;
  // What each row makes of the other replicas' part: the row minus this replica's own.
  auto others_of = [&](const CounterTotals& row) {
    NanoUsd own_spent = 0, own_reserved = 0;
    if (auto it = baseline.find(CounterKeyRef::Of(row.key)); it != baseline.end()) {
      own_spent = it->second->spent;
      own_reserved = it->second->reserved;
    }
    return std::pair<NanoUsd, NanoUsd>{std::max<NanoUsd>(0, row.spent - own_spent),
                                       std::max<NanoUsd>(0, row.reserved - own_reserved)};
  };

  // A refresh reads every counter row of the open periods (10,000 or more with as many caps)
  // every second, and nearly all of them are as they were. Finding those takes a cache miss or
  // two per row, milliseconds in all; doing it under the exclusive lock would stop every check
  // for that long, once a second. So the rows are compared under the shared lock, alongside
  // checks, and the exclusive lock is taken only to write the rows that differ. apply_mu_ keeps
  // a second snapshot from writing others_* between the two passes; nothing else writes them,
  // so a row found equal stays equal. Counters are looked up again in the second pass because
  // PruneClosedPeriods may remove one in between.
  absl::MutexLock apply_lock(&apply_mu_);
  std::vector<size_t> changed;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (last_snapshot_as_of_.has_value() && snapshot.as_of < *last_snapshot_as_of_) {
      return absl::AbortedError("as_of: older than the last applied snapshot");
    }
    for (size_t i = 0; i < snapshot.rows.size(); ++i) {
      const Counter* c = counters_.Find(CounterKeyRef::Of(snapshot.rows[i].key));
      const auto [others_spent, others_reserved] = others_of(snapshot.rows[i]);
      if (c == nullptr || c->others_spent != others_spent ||
          c->others_reserved != others_reserved) {
        changed.push_back(i);
      }
    }
  }

  // Only ApplyOthers writes last_snapshot_as_of_, and apply_mu_ is held, so the as_of check
  // above still holds.
  absl::MutexLock lock(&mu_);
  last_snapshot_as_of_ = snapshot.as_of;
  for (size_t i : changed) {
    const CounterTotals& row = snapshot.rows[i];
    const CounterKeyRef ref = CounterKeyRef::Of(row.key);
    KeyCaps* entry = IndexEntry(ref.scope, ref.key);
    Counter& c = CounterFor(ref, entry);
    const NanoUsd before = c.spent();
    std::tie(c.others_spent, c.others_reserved) = others_of(row);
    // Other replicas' growth since the last snapshot feeds the burn rate (at the time it
    // became visible) and consumes acknowledged headroom like local spend does.
    if (c.spent() > before) {
      c.burn.Add(snapshot.as_of, c.spent() - before);
      ConsumeHeadroom(ref, entry, before, c.spent(), snapshot.as_of);
    }
  }
  return absl::OkStatus();
}

std::vector<CounterTotals> BudgetEngine::ExportLocalCounters() const {
  std::vector<CounterTotals> out;
  absl::ReaderMutexLock lock(&mu_);
  counters_.ForEach([&](const CounterKey& key, const Counter& c) {
    if (c.local_spent != 0 || c.local_reserved != 0) {
      out.push_back({key, c.local_spent, c.local_reserved});
    }
  });
  return out;
}

int BudgetEngine::PruneClosedPeriods(absl::Time ended_by) {
  absl::MutexLock lock(&mu_);
  // Forget every remembered counter Prune may remove (it removes only counters of periods that
  // ended by `ended_by`), before it does, so no index entry ever points at a freed counter.
  for (auto& by_key : index_) {
    for (auto& [key, entry] : by_key) {
      for (size_t p = 0; p < kPeriods.size(); ++p) {
        KeyCaps::CounterSlot& slot = entry.current[p];
        if (slot.counter != nullptr && PeriodEnd(kPeriods[p], slot.period_start) <= ended_by) {
          slot = {};
        }
      }
    }
  }
  return counters_.Prune(ended_by);
}

EngineStats BudgetEngine::Stats() const {
  absl::ReaderMutexLock lock(&mu_);
  EngineStats s;
  s.caps = caps_.size();
  s.counters = counters_.size();
  s.open_reservations = reservations_.open_count();
  s.reservations_made = reservations_made_;
  s.reservations_settled = reservations_settled_;
  s.reservations_expired = reservations_expired_;
  s.duplicate_settles = duplicate_settles_;
  s.acknowledgements = acks_.size();
  return s;
}

}  // namespace stepledger::domain::budget
