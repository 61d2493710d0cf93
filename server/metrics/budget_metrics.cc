#include "server/metrics/budget_metrics.h"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace stepledger::metrics {
namespace {

using domain::budget::Cap;
using domain::budget::Scope;

constexpr std::string_view kOtherLabel = "other";

std::string ScopeLabel(Scope s) {
  return s == Scope::kUnspecified ? "none" : std::string(domain::budget::ToString(s));
}

bool SameLabels(const Cap& a, const Cap& b) {
  return a.scope == b.scope && a.key == b.key && a.period == b.period && a.owner == b.owner;
}

// The two series of a counter labelled read="changed" (index 0) and read="full" (index 1).
std::array<prometheus::Counter*, 2> CounterPair(prometheus::Registry& registry,
                                                const std::string& name, const std::string& help) {
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  return {&family.Add({{"read", "changed"}}), &family.Add({{"read", "full"}})};
}

// The series of stepledger_budget_stale_answers_total, indexed by StalePolicy.
std::array<prometheus::Counter*, 4> StaleAnswerCounters(prometheus::Registry& registry) {
  auto& family = prometheus::BuildCounter()
                     .Name("stepledger_budget_stale_answers_total")
                     .Help(
                         "CheckBudget answers given from stale counters, by the strongest "
                         "stale policy among the check's enforced caps (none: no cap)")
                     .Register(registry);
  using domain::budget::StalePolicy;
  std::array<prometheus::Counter*, 4> out{};
  for (StalePolicy p : {StalePolicy::kUnspecified, StalePolicy::kAnswer, StalePolicy::kAlert,
                        StalePolicy::kRequireAck}) {
    const std::string label =
        p == StalePolicy::kUnspecified ? "none" : std::string(domain::budget::ToString(p));
    out[static_cast<size_t>(p)] = &family.Add({{"policy", label}});
  }
  return out;
}

}  // namespace

BudgetMetrics::BudgetMetrics(prometheus::Registry& registry, const domain::Clock& clock,
                             CapSeriesOptions options)
    : clock_(clock),
      options_(options),
      decisions_(prometheus::BuildCounter()
                     .Name("stepledger_budget_decisions_total")
                     .Help("CheckBudget decisions, by decision and the scope that decided")
                     .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("stepledger_budget_check_latency_seconds")
                   .Help("Time the engine took to decide one CheckBudget")
                   .Register(registry)
                   .Add({}, prometheus::Histogram::BucketBoundaries{1e-6, 2e-6, 5e-6, 1e-5, 2e-5,
                                                                    5e-5, 1e-4, 1e-3, 1e-2})),
      rejected_(prometheus::BuildCounter()
                    .Name("stepledger_budget_checks_rejected_total")
                    .Help("CheckBudget calls refused as malformed (never answered ALLOW)")
                    .Register(registry)
                    .Add({})),
      acknowledgements_(prometheus::BuildCounter()
                            .Name("stepledger_budget_acknowledgements_total")
                            .Help("Acknowledgements recorded by this replica")
                            .Register(registry)
                            .Add({})),
      open_reservations_(prometheus::BuildGauge()
                             .Name("stepledger_budget_reservations_open")
                             .Help("Reservations holding an estimate on this replica")
                             .Register(registry)
                             .Add({})),
      reservations_made_(prometheus::BuildCounter()
                             .Name("stepledger_budget_reservations_total")
                             .Help("Reservations made by this replica")
                             .Register(registry)
                             .Add({})),
      reservations_expired_(prometheus::BuildCounter()
                                .Name("stepledger_budget_reservations_expired_total")
                                .Help("Reservations released by their TTL, never settled")
                                .Register(registry)
                                .Add({})),
      spend_reads_(CounterPair(registry, "stepledger_budget_spend_reads_total",
                               "Budget refresh reads of the shared spend counters, in full or "
                               "only the counters changed since the last read")),
      spend_rows_read_(CounterPair(registry, "stepledger_budget_spend_rows_read_total",
                                   "Counter rows those reads returned")),
      utilisation_(prometheus::BuildGauge()
                       .Name("stepledger_budget_utilisation_ratio")
                       .Help("Spent / limit of each cap in its current period")
                       .Register(registry)),
      limit_(prometheus::BuildGauge()
                 .Name("stepledger_budget_limit_usd")
                 .Help("Limit of each cap")
                 .Register(registry)),
      threshold_(prometheus::BuildGauge()
                     .Name("stepledger_budget_alert_threshold_ratio")
                     .Help("Alert threshold of each cap, as a ratio of its limit (0.8 = 80%)")
                     .Register(registry)),
      spent_(prometheus::BuildGauge()
                 .Name("stepledger_budget_spent_usd")
                 .Help("Spend of each cap in its current period, all replicas")
                 .Register(registry)),
      seconds_left_(prometheus::BuildGauge()
                        .Name("stepledger_budget_period_end_seconds")
                        .Help("Seconds until each cap's period ends and its counter resets")
                        .Register(registry)),
      caps_other_(prometheus::BuildGauge()
                      .Name("stepledger_budget_caps_other")
                      .Help("Caps without their own series, summed into cap_id=\"other\" "
                            "(more caps than --metrics-top-caps)")
                      .Register(registry)
                      .Add({})),
      stale_answers_(StaleAnswerCounters(registry)),
      counters_age_(prometheus::BuildGauge()
                        .Name("stepledger_budget_counters_age_seconds")
                        .Help("How old the spend counters behind checks are: seconds since "
                              "the last complete read from the database (+Inf: never read)")
                        .Register(registry)
                        .Add({})) {}

prometheus::Counter& BudgetMetrics::DecisionCounter(domain::budget::Decision decision,
                                                    Scope scope) {
  std::atomic<prometheus::Counter*>& slot =
      decision_counters_[static_cast<size_t>(decision)][static_cast<size_t>(scope)];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add is thread-safe and returns the same series for the same labels, so two
    // threads racing here store the same pointer.
    counter = &decisions_.Add({{"decision", std::string(domain::budget::ToString(decision))},
                               {"scope", ScopeLabel(scope)}});
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

void BudgetMetrics::OnCheck(const domain::budget::CheckResult& result, absl::Duration latency) {
  DecisionCounter(result.decision, result.deciding_scope).Increment();
  latency_.Observe(absl::ToDoubleSeconds(latency));
  if (result.stale) {
    domain::budget::StalePolicy strongest = domain::budget::StalePolicy::kUnspecified;
    for (const domain::budget::CapStatus& st : result.caps) {
      if (!st.cap->shadow) strongest = std::max(strongest, st.cap->stale_policy);
    }
    stale_answers_[static_cast<size_t>(strongest)]->Increment();
  }
}

void BudgetMetrics::OnCountersAge(std::optional<absl::Duration> age) {
  counters_age_.Set(age.has_value() ? absl::ToDoubleSeconds(*age)
                                    : std::numeric_limits<double>::infinity());
}

void BudgetMetrics::OnCheckRejected() { rejected_.Increment(); }

void BudgetMetrics::OnAcknowledgement() { acknowledgements_.Increment(); }

void BudgetMetrics::OnCounterRead(bool full, size_t rows) {
  spend_reads_[full ? 1 : 0]->Increment();
  spend_rows_read_[full ? 1 : 0]->Increment(static_cast<double>(rows));
}

void BudgetMetrics::OnRefresh(domain::budget::BudgetEngine& engine) {
  const domain::budget::EngineStats stats = engine.Stats();
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  open_reservations_.Set(static_cast<double>(stats.open_reservations));
  reservations_made_.Increment(static_cast<double>(stats.reservations_made - last_made_));
  reservations_expired_.Increment(static_cast<double>(stats.reservations_expired - last_expired_));
  last_made_ = stats.reservations_made;
  last_expired_ = stats.reservations_expired;

  const uint64_t round = ++round_;
  const std::vector<domain::budget::CapSpend> caps = engine.SpendPerCap(now);
  ChooseSlots(caps, now);
  size_t other_caps = 0;
  double other_limit = 0;
  double other_spent = 0;
  for (const domain::budget::CapSpend& c : caps) {
    if (!slotted_.contains(c.cap->id)) {
      ++other_caps;
      other_limit += static_cast<double>(c.cap->limit_nano_usd) / 1e9;
      other_spent += static_cast<double>(c.spent) / 1e9;
      continue;  // its own gauges, if any, are removed below (not seen this round)
    }
    auto it = caps_.find(c.cap->id);
    if (it != caps_.end() && it->second.cap != c.cap && !SameLabels(*it->second.cap, *c.cap)) {
      RemoveGauges(it->second);  // relabelled: a series per label set, never a stale one
      caps_.erase(it);
      it = caps_.end();
    }
    if (it == caps_.end()) it = caps_.emplace(c.cap->id, NewGauges(c.cap)).first;
    CapGauges& g = it->second;
    g.cap = c.cap;
    g.seen_round = round;
    const double limit = static_cast<double>(c.cap->limit_nano_usd);
    g.utilisation->Set(limit > 0 ? static_cast<double>(c.spent) / limit : 0);
    g.limit->Set(limit / 1e9);
    g.threshold->Set(static_cast<double>(c.cap->alert_threshold_bps) / 10000);
    g.spent->Set(static_cast<double>(c.spent) / 1e9);
    g.seconds_left->Set(absl::ToDoubleSeconds(c.period_end - now));
  }
  for (auto it = caps_.begin(); it != caps_.end();) {
    if (it->second.seen_round == round) {
      ++it;
      continue;
    }
    RemoveGauges(it->second);
    caps_.erase(it++);
  }
  SetOther(other_caps, other_limit, other_spent);
}

void BudgetMetrics::ChooseSlots(const std::vector<domain::budget::CapSpend>& caps, absl::Time now) {
  // Better first: crossed caps (spent >= limit), then larger spend, then id (a stable order).
  const auto crossed = [](const domain::budget::CapSpend& c) {
    return c.spent >= c.cap->limit_nano_usd;
  };
  // Past the alert threshold: the threshold alert fires for it.
  const auto alerting = [](const domain::budget::CapSpend& c) {
    return static_cast<__int128>(c.spent) * 10000 >=
           static_cast<__int128>(c.cap->alert_threshold_bps) * c.cap->limit_nano_usd;
  };
  const auto better = [&crossed, &alerting](const domain::budget::CapSpend* a,
                                            const domain::budget::CapSpend* b) {
    if (crossed(*a) != crossed(*b)) return crossed(*a);
    if (alerting(*a) != alerting(*b)) return alerting(*a);
    if (a->spent != b->spent) return a->spent > b->spent;
    return a->cap->id < b->cap->id;
  };
  std::vector<const domain::budget::CapSpend*> ranked;
  ranked.reserve(caps.size());
  for (const domain::budget::CapSpend& c : caps) ranked.push_back(&c);
  std::sort(ranked.begin(), ranked.end(), better);

  if (now - last_rechoice_ >= options_.rechoose_interval) {
    last_rechoice_ = now;
    slotted_.clear();
    for (size_t i = 0; i < ranked.size() && i < options_.top_caps; ++i) {
      slotted_.insert(ranked[i]->cap->id);
    }
    return;
  }
  // Between re-choices: forget deleted caps, refill free slots, let crossed caps in at once.
  absl::flat_hash_set<std::string> present;
  for (const domain::budget::CapSpend* c : ranked) present.insert(c->cap->id);
  for (auto it = slotted_.begin(); it != slotted_.end();) {
    if (present.contains(*it)) {
      ++it;
    } else {
      slotted_.erase(it++);
    }
  }
  for (const domain::budget::CapSpend* c : ranked) {
    if (slotted_.contains(c->cap->id)) continue;
    if (slotted_.size() < options_.top_caps) {
      slotted_.insert(c->cap->id);
      continue;
    }
    if (!crossed(*c)) break;  // ranked: no crossed cap is left unslotted after this one
    // The worst slotted cap that has not crossed its limit gives up its slot.
    const domain::budget::CapSpend* worst = nullptr;
    for (auto r = ranked.rbegin(); r != ranked.rend(); ++r) {
      if (slotted_.contains((*r)->cap->id)) {
        worst = *r;
        break;
      }
    }
    if (worst == nullptr || crossed(*worst)) break;  // every slot holds a crossed cap
    slotted_.erase(worst->cap->id);
    slotted_.insert(c->cap->id);
  }
}

void BudgetMetrics::SetOther(size_t caps, double limit_usd, double spent_usd) {
  caps_other_.Set(static_cast<double>(caps));
  if (caps == 0) {
    if (other_[0] != nullptr) {
      utilisation_.Remove(other_[0]);
      limit_.Remove(other_[1]);
      spent_.Remove(other_[2]);
      other_ = {};
    }
    return;
  }
  if (other_[0] == nullptr) {
    const std::string other(kOtherLabel);
    const prometheus::Labels labels = {{"cap_id", other},
                                       {"scope", other},
                                       {"key", other},
                                       {"period", other},
                                       {"owner_team", other}};
    other_ = {&utilisation_.Add(labels), &limit_.Add(labels), &spent_.Add(labels)};
  }
  other_[0]->Set(limit_usd > 0 ? spent_usd / limit_usd : 0);
  other_[1]->Set(limit_usd);
  other_[2]->Set(spent_usd);
}

BudgetMetrics::CapGauges BudgetMetrics::NewGauges(const std::shared_ptr<const Cap>& cap) {
  const prometheus::Labels labels = {{"cap_id", cap->id},
                                     {"scope", ScopeLabel(cap->scope)},
                                     {"key", cap->key},
                                     {"period", std::string(domain::budget::ToString(cap->period))},
                                     {"owner_team", cap->owner}};
  return CapGauges{cap,
                   &utilisation_.Add(labels),
                   &limit_.Add(labels),
                   &threshold_.Add(labels),
                   &spent_.Add(labels),
                   &seconds_left_.Add(labels)};
}

void BudgetMetrics::RemoveGauges(const CapGauges& gauges) {
  utilisation_.Remove(gauges.utilisation);
  limit_.Remove(gauges.limit);
  threshold_.Remove(gauges.threshold);
  spent_.Remove(gauges.spent);
  seconds_left_.Remove(gauges.seconds_left);
}

}  // namespace stepledger::metrics
