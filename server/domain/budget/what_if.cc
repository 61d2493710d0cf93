#include "server/domain/budget/what_if.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/domain/budget/decision.h"
#include "server/domain/budget/period.h"

namespace stepledger::domain::budget {
namespace {

// A tally plus the runs behind it, until the run sets are turned into counts.
struct RunTally {
  WhatIfTally tally;
  absl::flat_hash_set<std::string> runs;

  void Add(const HistoricalStep& step) {
    ++tally.steps;
    tally.cost_nano_usd += step.cost_nano_usd;
    runs.insert(step.tags.parent_run_id);
  }
  WhatIfTally Finish() const {
    WhatIfTally t = tally;
    t.runs = static_cast<int64_t>(runs.size());
    return t;
  }
};

struct RunRow {
  RunTally alert;
  RunTally require_ack;

  void Add(Decision d, const HistoricalStep& step) {
    if (d == Decision::kAlert) alert.Add(step);
    if (d == Decision::kRequireAck) require_ack.Add(step);
  }
  WhatIfRow Finish() const { return {alert.Finish(), require_ack.Finish()}; }
};

// One proposed cap's live counter: since history is time-ordered, only the current period
// needs keeping, and a step in a later period starts a new counter at zero.
struct SimulatedCap {
  Cap cap;
  absl::Time period_start = absl::InfinitePast();
  NanoUsd spent = 0;
};

bool Matches(const Cap& cap, const Tags& tags) {
  if (cap.environment != tags.environment) return false;
  switch (cap.scope) {
    case Scope::kFeature:
      return cap.key == tags.feature;
    case Scope::kTeam:
      return cap.key == tags.team;
    case Scope::kTenant:
      return cap.key == tags.tenant;
    case Scope::kOrg:
      return true;
    case Scope::kUnspecified:
      break;
  }
  return false;
}

}  // namespace

absl::StatusOr<WhatIfReport> WhatIf(absl::Span<const Cap> proposed_caps,
                                    absl::Span<const HistoricalStep> history) {
  std::vector<SimulatedCap> caps;
  caps.reserve(proposed_caps.size());
  for (size_t i = 0; i < proposed_caps.size(); ++i) {
    Cap cap = ApplyCapDefaults(proposed_caps[i]);
    if (absl::Status s = ValidateCap(cap); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("caps[", i, "].", s.message()));
    }
    caps.push_back({std::move(cap)});
  }

  RunTally replayed;
  RunRow total;
  std::map<std::string, RunRow> by_team, by_feature, by_cap;
  absl::Time previous = absl::InfinitePast();
  for (size_t i = 0; i < history.size(); ++i) {
    const HistoricalStep& step = history[i];
    if (step.cost_nano_usd < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("history[", i, "].cost_nano_usd: must not be negative"));
    }
    if (step.occurred_at < previous) {
      return absl::InvalidArgumentError(
          absl::StrCat("history[", i, "].occurred_at: history must be ordered by time"));
    }
    previous = step.occurred_at;
    replayed.Add(step);

    Decision strongest = Decision::kAllow;
    for (SimulatedCap& sim : caps) {
      if (!Matches(sim.cap, step.tags)) continue;
      const absl::Time start = PeriodStart(sim.cap.period, step.occurred_at);
      if (start != sim.period_start) {
        sim.period_start = start;
        sim.spent = 0;
      }
      const Decision d = DecideCap(sim.cap, sim.spent, 0, step.cost_nano_usd, AckHeadroom{});
      by_cap[sim.cap.id].Add(d, step);
      strongest = std::max(strongest, d);
      sim.spent += step.cost_nano_usd;
    }
    if (strongest == Decision::kAllow) continue;
    total.Add(strongest, step);
    by_team[step.tags.team].Add(strongest, step);
    by_feature[step.tags.feature].Add(strongest, step);
  }

  WhatIfReport report;
  report.replayed = replayed.Finish();
  report.total = total.Finish();
  for (const auto& [k, row] : by_team) report.by_team[k] = row.Finish();
  for (const auto& [k, row] : by_feature) report.by_feature[k] = row.Finish();
  for (const auto& [k, row] : by_cap) report.by_cap[k] = row.Finish();
  return report;
}

}  // namespace stepledger::domain::budget
