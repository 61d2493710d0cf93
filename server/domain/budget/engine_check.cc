// BudgetEngine: CheckBudget (evaluation and reservations), committed spend and
// acknowledgements. See engine.h for the rules and the locking.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/domain/budget/decision.h"
#include "server/domain/budget/engine.h"
#include "server/domain/budget/engine_internal.h"
#include "server/domain/budget/string_key.h"

namespace stepledger::domain::budget {
namespace {

using engine_internal::IsFinite;
using engine_internal::kPeriods;
using engine_internal::PeriodBit;
using engine_internal::Periods;
using engine_internal::TierKey;
using engine_internal::TierKeys;

// Tie-break between caps with equal decisions: the tiers that need a human first.
int TierRank(Scope s) {
  switch (s) {
    case Scope::kOrg:
      return 4;
    case Scope::kTeam:
      return 3;
    case Scope::kTenant:
      return 2;
    case Scope::kFeature:
      return 1;
    case Scope::kUnspecified:
      break;
  }
  return 0;
}

void Prefetch(const void* p) {
  if (p != nullptr) __builtin_prefetch(p);
}

}  // namespace

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

  const Reservation& r =
      reservations_.Add(request.step_id, request.estimated_cost_nano_usd, now,
                        options_.reservation_ttl, HeldCountersFor(request.tags, now, &entries));
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
  // Other replicas' spend is only as fresh as the last complete read of the counters; past the
  // stale limit each cap's stale policy decides (below), whatever the figures say.
  result.counters_as_of = counters_as_of_;
  result.counters_age = counters_as_of_.has_value()
                            ? std::max(absl::ZeroDuration(), now - *counters_as_of_)
                            : absl::InfiniteDuration();
  result.stale = options_.stale_after != absl::InfiniteDuration() &&
                 result.counters_age > options_.stale_after;

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
      st.remaining = ack.remaining > 0 ? std::max(cap->limit_nano_usd, st.spent) - st.spent -
                                             st.reserved + ack.remaining
                                       : cap->limit_nano_usd - st.spent - st.reserved;
      st.projected_exhaustion =
          ProjectExhaustion(st.remaining, st.burn_rate_per_hour, now, st.period_end);
      st.decision = DecideCap(*cap, st.spent, st.reserved, estimate, ack);
      if (result.stale) {
        const Decision from_figures = st.decision;
        st.decision = StaleDecision(cap->stale_policy, from_figures);
        st.stale_policy_applied = st.decision != from_figures;
      }
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
    // Only watched keys (and the org) have counters; every key's spend is in storage.
    if (entry == nullptr && tier.scope != Scope::kOrg) continue;
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

void BudgetEngine::ConsumeHeadroom(const CounterKeyRef& key, const KeyCaps* entry, NanoUsd before,
                                   NanoUsd after, absl::Time at) {
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

}  // namespace stepledger::domain::budget
