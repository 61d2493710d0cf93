#include "server/metrics/spend_metrics.h"

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

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
// product of two admitted sets cannot grow past the pair's limit either).
std::pair<std::string, std::string> GuardedFeatureTeam(LabelGuard& guard,
                                                       const domain::Tags& charged) {
  std::string feature = guard.Admit(kFeatureLabel, OrUnattributed(charged.feature));
  std::string team = guard.Admit(kTeamLabel, OrUnattributed(charged.team));
  const std::string pair = feature + "\x1f" + team;
  if (guard.Admit(kFeatureTeamLabel, pair) == LabelGuard::kOther) {
    feature = std::string(LabelGuard::kOther);
    team = std::string(LabelGuard::kOther);
  }
  return {std::move(feature), std::move(team)};
}

// Per-group sums in integer nano-USD (exact), turned into one double increment per series.
struct GroupSums {
  using SpendKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  using TokensKey = std::tuple<std::string, std::string, std::string, std::string>;
  using StepsKey = std::tuple<std::string, std::string, std::string>;
  std::map<SpendKey, domain::NanoUsd> spend;      // feature, team, workload_class, env, kind
  std::map<TokensKey, int64_t> tokens;            // bucket, feature, team, environment
  std::map<std::string, domain::NanoUsd> tenant;  // tenant
  std::map<std::pair<std::string, std::string>, domain::NanoUsd> retry;  // feature, team
  std::map<std::string, domain::NanoUsd> unattributed;                   // reason
  std::map<StepsKey, int64_t> steps;  // environment, kind, cost_source
};

void AddTokens(GroupSums& sums, std::string_view bucket, const std::optional<int64_t>& count,
               const std::string& feature, const std::string& team, const std::string& env) {
  if (!count.has_value() || *count <= 0) return;  // unknown is not zero; zero adds nothing
  sums.tokens[{std::string(bucket), feature, team, env}] += *count;
}

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
  GroupSums sums;
  for (size_t i = 0; i < items.size() && i < outcomes.size(); ++i) {
    if (outcomes[i] != Outcome::kAccepted) continue;
    const IngestItem& item = *items[i];
    if (item.rejection.has_value()) continue;  // never in the ledger
    const domain::Tags& charged = item.charged;
    const std::string env = OrUnattributed(domain::ToString(charged.environment));
    const std::string kind(domain::ToString(item.step.kind));
    sums.steps[{env, kind, std::string(domain::ingest::ToString(item.cost_source))}] += 1;

    auto [feature, team] = GuardedFeatureTeam(guard_, charged);
    const domain::Usage& u = item.step.usage;
    AddTokens(sums, "input_uncached", u.input_uncached_tokens, feature, team, env);
    AddTokens(sums, "cache_read", u.cache_read_tokens, feature, team, env);
    AddTokens(sums, "cache_write", u.cache_write_tokens, feature, team, env);
    AddTokens(sums, "output", u.output_tokens, feature, team, env);
    AddTokens(sums, "reasoning", u.reasoning_tokens, feature, team, env);

    // Unpriced steps have no cost (unknown, never $0): counted in steps_stored only.
    if (!item.cost_nano_usd.has_value()) continue;
    const domain::NanoUsd cost = *item.cost_nano_usd;
    sums.spend[{feature, team, OrUnattributed(domain::ToString(charged.workload_class)), env,
                kind}] += cost;
    sums.tenant[OrUnattributed(charged.tenant)] += cost;
    if (item.step.attempt > 1) sums.retry[{feature, team}] += cost;
    if (item.status == domain::AttributionStatus::kDefaulted) {
      sums.unattributed["defaulted"] += cost;
    } else if (item.status == domain::AttributionStatus::kPending) {
      sums.unattributed["pending_at_commit"] += cost;
    }
  }

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
  if (!sums.tenant.empty()) CountTenants(sums.tenant);
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

void SpendMetrics::CountTenants(const std::map<std::string, domain::NanoUsd>& spend) {
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
    const bool slotted = tenant != LabelGuard::kOther && top_tenants_.Add(tenant, nano);
    if (!slotted) {
      tenant_other_.Increment(ToUsd(nano));
      continue;
    }
    auto it = tenant_series_.find(tenant);
    if (it == tenant_series_.end()) {  // took a free slot just now
      it = tenant_series_.emplace(tenant, &tenant_family_.Add({{"tenant", tenant}})).first;
    }
    it->second->Increment(ToUsd(nano));
  }
}

}  // namespace stepledger::metrics
