#include "server/metrics/spend_metrics.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace stepledger::metrics {
namespace {

using domain::ingest::IngestItem;
using domain::ingest::Outcome;

double ToUsd(domain::NanoUsd nano) {
  return static_cast<double>(nano) / static_cast<double>(domain::kNanoUsdPerUsd);
}

// An empty value would drop the label in the exposition; show the gap plainly instead.
std::string OrUnattributed(std::string_view v) {
  return v.empty() ? std::string(domain::kUnattributed) : std::string(v);
}

// The charged feature and team after the guard: each on its own, then the pair (so that the
// product of two admitted sets cannot grow past the pair's limit either). `steps` is how many
// committed steps carry them: each one is a sighting, as if admitted one by one.
std::pair<std::string, std::string> GuardedFeatureTeam(LabelGuard& guard,
                                                       std::string_view feature_tag,
                                                       std::string_view team_tag, size_t steps) {
  std::string feature = guard.Admit(kFeatureLabel, OrUnattributed(feature_tag), steps);
  std::string team = guard.Admit(kTeamLabel, OrUnattributed(team_tag), steps);
  const std::string pair = feature + "\x1f" + team;
  if (guard.Admit(kFeatureTeamLabel, pair, steps) == LabelGuard::kOther) {
    feature = std::string(LabelGuard::kOther);
    team = std::string(LabelGuard::kOther);
  }
  return {std::move(feature), std::move(team)};
}

absl::string_view AsAbsl(std::string_view v) { return absl::string_view(v.data(), v.size()); }

// Who a committed step is charged to, as the series see it before the label guard. The views
// point into the group's items, which outlive OnGroupCommitted.
struct ChargeKey {
  std::string_view feature;
  std::string_view team;
  domain::WorkloadClass workload_class;
  domain::Environment environment;
  domain::StepKind kind;

  bool operator==(const ChargeKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const ChargeKey& k) {
    return H::combine(std::move(h), AsAbsl(k.feature), AsAbsl(k.team), k.workload_class,
                      k.environment, k.kind);
  }
};

// A group's steps summed per ChargeKey, exactly (integers). A group of thousands of steps has
// few distinct keys, so the guard and the label strings are visited once per key, not per step.
struct ChargeSums {
  size_t steps = 0;
  bool priced = false;  // some step had a cost (a $0 cost still creates its series)
  domain::NanoUsd spend = 0;
  bool retried = false;  // some priced step had attempt > 1
  domain::NanoUsd retry = 0;
  std::array<int64_t, 5> tokens{};  // by kTokenBuckets; unknown and zero counts add nothing
};

constexpr std::array<std::string_view, 5> kTokenBuckets = {"input_uncached", "cache_read",
                                                           "cache_write", "output", "reasoning"};

// Series increments of one group, after the guard, in integer nano-USD (exact), turned into
// one double increment per series.
struct GroupSums {
  using SpendKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  using TokensKey = std::tuple<std::string, std::string, std::string, std::string>;
  using StepsKey = std::tuple<std::string, std::string, std::string>;
  std::map<SpendKey, domain::NanoUsd> spend;  // feature, team, workload_class, env, kind
  std::map<TokensKey, int64_t> tokens;        // bucket, feature, team, environment
  std::map<std::pair<std::string, std::string>, domain::NanoUsd> retry;  // feature, team
  std::map<std::string, domain::NanoUsd> unattributed;                   // reason
  std::map<StepsKey, int64_t> steps;  // environment, kind, cost_source
};

}  // namespace

SpendMetrics::SpendMetrics(prometheus::Registry& registry, LabelGuard& guard,
                           const domain::Clock& clock, TenantSeriesOptions options)
    : guard_(guard),
      spend_family_(prometheus::BuildCounter()
                        .Name("stepledger_spend_usd_total")
                        .Help("Cost of steps stored in the ledger, in USD, by who pays "
                              "(charged tags at commit) and step kind")
                        .Register(registry)),
      tokens_family_(prometheus::BuildCounter()
                         .Name("stepledger_tokens_total")
                         .Help("Tokens of steps stored in the ledger, by usage bucket and who "
                               "pays; unknown counts are not added")
                         .Register(registry)),
      tenant_family_(prometheus::BuildCounter()
                         .Name("stepledger_tenant_spend_usd_total")
                         .Help("Cost of steps stored in the ledger, in USD, by tenant: the "
                               "N largest recent spenders (re-chosen every minute) have their "
                               "own series, the rest are \"other\"")
                         .Register(registry)),
      retry_family_(prometheus::BuildCounter()
                        .Name("stepledger_retry_spend_usd_total")
                        .Help("Cost of retry and fallback attempts (attempt > 1), in USD, by "
                              "feature and team")
                        .Register(registry)),
      unattributed_family_(prometheus::BuildCounter()
                               .Name("stepledger_unattributed_spend_usd_total")
                               .Help("Spend, in USD, that is not charged to a complete set of "
                                     "tags, by reason")
                               .Register(registry)),
      steps_family_(prometheus::BuildCounter()
                        .Name("stepledger_steps_stored_total")
                        .Help("Steps stored in the ledger, by environment, kind and where "
                              "their cost came from (reported, computed, unpriced)")
                        .Register(registry)),
      tenant_other_(tenant_family_.Add({{"tenant", std::string(LabelGuard::kOther)}})),
      top_tenants_({.slots = options.top_tenants, .rechoose_interval = options.rechoose_interval},
                   clock) {}

void SpendMetrics::OnGroupCommitted(absl::Span<const IngestItem* const> items,
                                    absl::Span<const Outcome> outcomes, absl::Duration) {
  // Pass 1, per step: integer sums per charge key (in the order keys are first seen, which is
  // the order the guard must see values in), per tenant and per enum-only series.
  absl::flat_hash_map<ChargeKey, size_t> key_index;
  std::vector<std::pair<ChargeKey, ChargeSums>> charges;
  absl::flat_hash_map<absl::string_view, domain::NanoUsd> tenant_spend;
  absl::flat_hash_map<std::tuple<domain::Environment, domain::StepKind, domain::ingest::CostSource>,
                      int64_t>
      steps;
  domain::NanoUsd defaulted = 0, pending = 0;
  bool any_defaulted = false, any_pending = false;
  for (size_t i = 0; i < items.size() && i < outcomes.size(); ++i) {
    if (outcomes[i] != Outcome::kAccepted) continue;
    const IngestItem& item = *items[i];
    if (item.rejection.has_value()) continue;  // never in the ledger
    const domain::Tags& charged = item.charged;
    ++steps[{charged.environment, item.step.kind, item.cost_source}];

    const ChargeKey key{charged.feature, charged.team, charged.workload_class, charged.environment,
                        item.step.kind};
    auto [at, inserted] = key_index.try_emplace(key, charges.size());
    if (inserted) charges.emplace_back(key, ChargeSums{});
    ChargeSums& sums = charges[at->second].second;
    ++sums.steps;
    const domain::Usage& u = item.step.usage;
    const std::optional<int64_t>* counts[] = {&u.input_uncached_tokens, &u.cache_read_tokens,
                                              &u.cache_write_tokens, &u.output_tokens,
                                              &u.reasoning_tokens};
    for (size_t b = 0; b < kTokenBuckets.size(); ++b) {
      if (counts[b]->has_value() && **counts[b] > 0) sums.tokens[b] += **counts[b];
    }

    // Unpriced steps have no cost (unknown, never $0): counted in steps_stored only.
    if (!item.cost_nano_usd.has_value()) continue;
    const domain::NanoUsd cost = *item.cost_nano_usd;
    sums.priced = true;
    sums.spend += cost;
    if (item.step.attempt > 1) {
      sums.retried = true;
      sums.retry += cost;
    }
    tenant_spend[AsAbsl(charged.tenant.empty() ? domain::kUnattributed : charged.tenant)] += cost;
    if (item.status == domain::AttributionStatus::kDefaulted) {
      any_defaulted = true;
      defaulted += cost;
    } else if (item.status == domain::AttributionStatus::kPending) {
      any_pending = true;
      pending += cost;
    }
  }

  // Pass 2, per charge key: the guard, then the label strings of each series.
  GroupSums sums;
  for (const auto& [key, charge] : charges) {
    auto [feature, team] = GuardedFeatureTeam(guard_, key.feature, key.team, charge.steps);
    const std::string env = OrUnattributed(domain::ToString(key.environment));
    const std::string kind(domain::ToString(key.kind));
    for (size_t b = 0; b < kTokenBuckets.size(); ++b) {
      if (charge.tokens[b] > 0) {
        sums.tokens[{std::string(kTokenBuckets[b]), feature, team, env}] += charge.tokens[b];
      }
    }
    if (charge.priced) {
      sums.spend[{feature, team, OrUnattributed(domain::ToString(key.workload_class)), env,
                  kind}] += charge.spend;
    }
    if (charge.retried) sums.retry[{feature, team}] += charge.retry;
  }
  for (const auto& [key, n] : steps) {
    const auto& [environment, kind, source] = key;
    sums.steps[{OrUnattributed(domain::ToString(environment)), std::string(domain::ToString(kind)),
                std::string(domain::ingest::ToString(source))}] += n;
  }
  if (any_defaulted) sums.unattributed["defaulted"] += defaulted;
  if (any_pending) sums.unattributed["pending_at_commit"] += pending;

  for (const auto& [k, nano] : sums.spend) {
    spend_family_
        .Add({{"feature", std::get<0>(k)},
              {"team", std::get<1>(k)},
              {"workload_class", std::get<2>(k)},
              {"environment", std::get<3>(k)},
              {"kind", std::get<4>(k)}})
        .Increment(ToUsd(nano));
  }
  for (const auto& [k, n] : sums.tokens) {
    tokens_family_
        .Add({{"bucket", std::get<0>(k)},
              {"feature", std::get<1>(k)},
              {"team", std::get<2>(k)},
              {"environment", std::get<3>(k)}})
        .Increment(static_cast<double>(n));
  }
  if (!tenant_spend.empty()) {
    // In tenant order, as a sorted map gave them: the order in which free slots are taken.
    std::vector<std::pair<absl::string_view, domain::NanoUsd>> tenants(tenant_spend.begin(),
                                                                       tenant_spend.end());
    std::sort(tenants.begin(), tenants.end());
    CountTenants(tenants);
  }
  for (const auto& [k, nano] : sums.retry) {
    retry_family_.Add({{"feature", k.first}, {"team", k.second}}).Increment(ToUsd(nano));
  }
  for (const auto& [reason, nano] : sums.unattributed) {
    unattributed_family_.Add({{"reason", reason}}).Increment(ToUsd(nano));
  }
  for (const auto& [k, n] : sums.steps) {
    steps_family_
        .Add({{"environment", std::get<0>(k)},
              {"kind", std::get<1>(k)},
              {"cost_source", std::get<2>(k)}})
        .Increment(static_cast<double>(n));
  }
}

void SpendMetrics::CountTenants(
    absl::Span<const std::pair<absl::string_view, domain::NanoUsd>> spend) {
  absl::MutexLock lock(&mu_);
  if (std::optional<TopSpenders::Rechoice> change = top_tenants_.MaybeRechoose()) {
    for (const std::string& tenant : change->demoted) {
      auto it = tenant_series_.find(tenant);
      if (it == tenant_series_.end()) continue;
      tenant_family_.Remove(it->second);
      tenant_series_.erase(it);
    }
    for (const std::string& tenant : change->promoted) {
      tenant_series_.emplace(tenant, &tenant_family_.Add({{"tenant", tenant}}));
    }
  }
  for (const auto& [tenant, nano] : spend) {
    // A tenant literally named "other" is counted with the others: one series, one meaning.
    const bool slotted = tenant != AsAbsl(LabelGuard::kOther) && top_tenants_.Add(tenant, nano);
    if (!slotted) {
      tenant_other_.Increment(ToUsd(nano));
      continue;
    }
    auto it = tenant_series_.find(tenant);
    if (it == tenant_series_.end()) {  // took a free slot just now
      it = tenant_series_
               .emplace(std::string(tenant), &tenant_family_.Add({{"tenant", std::string(tenant)}}))
               .first;
    }
    it->second->Increment(ToUsd(nano));
  }
}

}  // namespace stepledger::metrics
