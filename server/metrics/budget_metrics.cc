#include "server/metrics/budget_metrics.h"

#include <set>

namespace stepledger::metrics {
namespace {

using domain::budget::Cap;
using domain::budget::CheckRequest;
using domain::budget::Scope;

std::string ScopeLabel(Scope s) {
  return s == Scope::kUnspecified ? "none" : std::string(domain::budget::ToString(s));
}

// A check that matches `cap` (and carries an estimate of zero) tells its current status; used
// to read every cap's utilisation through the engine's one public evaluation path.
CheckRequest ProbeFor(const Cap& cap) {
  CheckRequest r;
  r.tags.feature = "metrics-probe";
  r.tags.team = "metrics-probe";
  r.tags.tenant = "metrics-probe";
  r.tags.workload_class = domain::WorkloadClass::kBackground;
  r.tags.environment = cap.environment;
  r.tags.parent_run_id = "metrics-probe";
  switch (cap.scope) {
    case Scope::kFeature: r.tags.feature = cap.key; break;
    case Scope::kTeam: r.tags.team = cap.key; break;
    case Scope::kTenant: r.tags.tenant = cap.key; break;
    default: break;
  }
  return r;
}

}  // namespace

BudgetMetrics::BudgetMetrics(prometheus::Registry& registry, const domain::Clock& clock)
    : clock_(clock),
      decisions_(prometheus::BuildCounter()
                     .Name("stepledger_budget_decisions_total")
                     .Help("CheckBudget decisions, by decision and the scope that decided")
                     .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("stepledger_budget_check_latency_seconds")
                   .Help("Time the engine took to decide one CheckBudget")
                   .Register(registry)
                   .Add({}, prometheus::Histogram::BucketBoundaries{
                                1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3, 1e-2})),
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
      utilisation_(prometheus::BuildGauge()
                       .Name("stepledger_budget_utilisation_ratio")
                       .Help("Spent / limit of each cap in its current period")
                       .Register(registry)),
      limit_(prometheus::BuildGauge()
                 .Name("stepledger_budget_limit_usd")
                 .Help("Limit of each cap")
                 .Register(registry)),
      spent_(prometheus::BuildGauge()
                 .Name("stepledger_budget_spent_usd")
                 .Help("Spend of each cap in its current period, all replicas")
                 .Register(registry)),
      seconds_left_(prometheus::BuildGauge()
                        .Name("stepledger_budget_period_end_seconds")
                        .Help("Seconds until each cap's period ends and its counter resets")
                        .Register(registry)) {}

void BudgetMetrics::OnCheck(const domain::budget::CheckResult& result, absl::Duration latency) {
  decisions_
      .Add({{"decision", std::string(domain::budget::ToString(result.decision))},
            {"scope", ScopeLabel(result.deciding_scope)}})
      .Increment();
  latency_.Observe(absl::ToDoubleSeconds(latency));
}

void BudgetMetrics::OnCheckRejected() { rejected_.Increment(); }

void BudgetMetrics::OnAcknowledgement() { acknowledgements_.Increment(); }

void BudgetMetrics::OnRefresh(domain::budget::BudgetEngine& engine) {
  const domain::budget::EngineStats stats = engine.Stats();
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  open_reservations_.Set(static_cast<double>(stats.open_reservations));
  reservations_made_.Increment(static_cast<double>(stats.reservations_made - last_made_));
  reservations_expired_.Increment(static_cast<double>(stats.reservations_expired - last_expired_));
  last_made_ = stats.reservations_made;
  last_expired_ = stats.reservations_expired;

  std::set<std::string> seen;
  for (const Cap& cap : engine.ListCaps()) {
    seen.insert(cap.id);
    absl::StatusOr<domain::budget::CheckResult> probe = engine.Check(ProbeFor(cap));
    if (!probe.ok()) continue;
    for (const auto& status : probe->caps) {
      if (status.cap->id != cap.id) continue;
      auto it = caps_.find(cap.id);
      if (it == caps_.end()) {
        const prometheus::Labels labels = {{"cap_id", cap.id},
                                           {"scope", ScopeLabel(cap.scope)},
                                           {"key", cap.key},
                                           {"period", std::string(domain::budget::ToString(cap.period))},
                                           {"owner_team", cap.owner}};
        it = caps_.emplace(cap.id, CapGauges{&utilisation_.Add(labels), &limit_.Add(labels),
                                             &spent_.Add(labels), &seconds_left_.Add(labels)})
                 .first;
      }
      const double limit = static_cast<double>(cap.limit_nano_usd);
      it->second.utilisation->Set(limit > 0 ? static_cast<double>(status.spent) / limit : 0);
      it->second.limit->Set(limit / 1e9);
      it->second.spent->Set(static_cast<double>(status.spent) / 1e9);
      it->second.seconds_left->Set(absl::ToDoubleSeconds(status.period_end - now));
    }
  }
  for (auto it = caps_.begin(); it != caps_.end();) {
    if (seen.contains(it->first)) {
      ++it;
      continue;
    }
    utilisation_.Remove(it->second.utilisation);
    limit_.Remove(it->second.limit);
    spent_.Remove(it->second.spent);
    seconds_left_.Remove(it->second.seconds_left);
    it = caps_.erase(it);
  }
}

}  // namespace stepledger::metrics
