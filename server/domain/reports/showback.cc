#include "server/domain/reports/showback.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "server/domain/step.h"

namespace stepledger::domain::reports {
namespace {

bool IsUnattributed(const std::string& status) {
  return status == kStatusQuarantined || status == kStatusDefaulted;
}

struct Accum {
  int64_t spend = 0, steps = 0, unpriced = 0, retry_steps = 0, retry_spend = 0;
  std::map<std::string, int64_t> models;
};

void Add(Accum& a, const RollupRow& r) {
  a.spend += r.cost_nano_usd;
  a.steps += r.steps;
  a.unpriced += r.unpriced_steps;
  a.retry_steps += r.retry_steps;
  a.retry_spend += r.retry_cost_nano_usd;
  if (!r.model.empty()) a.models[r.model] += r.cost_nano_usd;
}

std::vector<SpendLine> Lines(const std::map<std::string, Accum>& by_key, const std::string& scope,
                             const ShowbackInputs& in) {
  std::map<std::string, const RunStats*> runs;
  for (const RunStats& s : in.run_stats) {
    if (s.scope == scope) runs[s.key] = &s;
  }
  std::vector<SpendLine> lines;
  for (const auto& [key, a] : by_key) {
    SpendLine line;
    line.key = key;
    line.spend_nano_usd = a.spend;
    line.steps = a.steps;
    line.unpriced_steps = a.unpriced;
    line.retry_steps = a.retry_steps;
    line.retry_spend_nano_usd = a.retry_spend;
    for (const BudgetCap& cap : in.budgets) {
      if (cap.scope != scope || cap.key != key) continue;
      line.has_budget = true;
      line.budget_nano_usd += BudgetForDays(cap.limit_nano_usd, cap.period, in.from, in.to);
      line.prorated_budget_nano_usd +=
          BudgetForDays(cap.limit_nano_usd, cap.period, in.from, std::min(in.through, in.to));
    }
    if (line.has_budget) {
      line.variance = ComputeVariance(line.spend_nano_usd, line.prorated_budget_nano_usd);
    }
    if (auto it = runs.find(key); it != runs.end()) {
      line.runs = it->second->runs;
      line.run_cost_p50_nano_usd = it->second->p50_nano_usd;
      line.run_cost_p95_nano_usd = it->second->p95_nano_usd;
    }
    std::vector<std::pair<std::string, int64_t>> models(a.models.begin(), a.models.end());
    std::stable_sort(models.begin(), models.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    if (models.size() > 3) models.resize(3);
    line.top_models = std::move(models);
    lines.push_back(std::move(line));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const SpendLine& x, const SpendLine& y) {
    return x.spend_nano_usd > y.spend_nano_usd;
  });
  return lines;
}

std::vector<CapLine> CapLines(const ShowbackInputs& in, const std::map<std::string, Accum>& teams,
                              const std::map<std::string, Accum>& features,
                              const std::map<std::string, int64_t>& tenants, int64_t org_spend) {
  std::vector<CapLine> lines;
  const absl::CivilDay through = std::min(in.through, in.to);
  for (const BudgetCap& cap : in.budgets) {
    CapLine line;
    line.scope = cap.scope;
    line.key = cap.key;
    line.period = cap.period;
    line.limit_nano_usd = cap.limit_nano_usd;
    line.budget_nano_usd = BudgetForDays(cap.limit_nano_usd, cap.period, in.from, in.to);
    if (cap.scope == "team") {
      auto it = teams.find(cap.key);
      line.spend_nano_usd = it == teams.end() ? 0 : it->second.spend;
    } else if (cap.scope == "feature") {
      auto it = features.find(cap.key);
      line.spend_nano_usd = it == features.end() ? 0 : it->second.spend;
    } else if (cap.scope == "tenant") {
      auto it = tenants.find(cap.key);
      line.spend_nano_usd = it == tenants.end() ? 0 : it->second;
    } else {
      line.spend_nano_usd = org_spend;
    }
    line.elapsed_days = DaysInclusive(in.from, through);
    if (line.elapsed_days > 0) {
      line.burn_nano_usd_per_day = line.spend_nano_usd / line.elapsed_days;
      // Exact in 128 bits: spend x period days / elapsed days, rounded down.
      line.forecast_nano_usd =
          static_cast<int64_t>(static_cast<__int128>(line.spend_nano_usd) *
                               DaysInclusive(in.from, in.to) / line.elapsed_days);
    }
    line.forecast_over = line.forecast_nano_usd > line.budget_nano_usd;
    lines.push_back(std::move(line));
  }
  std::stable_sort(lines.begin(), lines.end(), [](const CapLine& x, const CapLine& y) {
    return std::tie(x.scope, x.key) < std::tie(y.scope, y.key);
  });
  return lines;
}

std::vector<UnpricedLine> UnpricedLines(const std::vector<FocusRow>& rows) {
  std::vector<UnpricedLine> lines;
  for (const FocusRow& r : rows) {
    if (r.unpriced_reason.empty()) continue;
    lines.push_back(UnpricedLine{r.day, r.source, r.run, r.feature, r.team, r.tenant, r.environment,
                                 r.kind, r.provider, r.model, r.tool_name, r.unpriced_reason,
                                 r.steps, r.tokens});
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const UnpricedLine& x, const UnpricedLine& y) { return x.steps > y.steps; });
  return lines;
}

}  // namespace

double UnattributedShare(int64_t unattributed_nano_usd, int64_t total_nano_usd) {
  return Share(unattributed_nano_usd, total_nano_usd);
}

InvoiceLine ReconcileInvoice(const Invoice& invoice, int64_t attributed_nano_usd) {
  InvoiceLine line;
  line.provider = invoice.provider;
  line.month = invoice.month;
  line.invoiced_nano_usd = invoice.amount_nano_usd;
  line.attributed_nano_usd = attributed_nano_usd;
  line.gap_nano_usd = invoice.amount_nano_usd - attributed_nano_usd;
  if (invoice.amount_nano_usd > 0) {
    line.gap_share = static_cast<double>(line.gap_nano_usd) / invoice.amount_nano_usd;
    line.flagged = std::abs(line.gap_share) > kInvoiceGapThreshold;
  } else {
    line.flagged = attributed_nano_usd != 0;
  }
  return line;
}

ShowbackReport BuildShowback(const ShowbackInputs& in, absl::Time generated_at) {
  ShowbackReport report;
  report.from = in.from;
  report.to = in.to;
  report.through = in.through;
  report.environment = in.environment;
  report.generated_at = generated_at;
  report.budgets_available = in.budgets_available;
  report.rows = in.rows;
  report.focus_rows = in.focus_rows;
  report.missing_days = in.missing_days;

  std::map<std::string, Accum> teams, features;
  std::map<std::string, int64_t> tenants;
  std::map<std::string, std::pair<int64_t, int64_t>> unattributed;  // reason -> (steps, spend)
  std::map<std::pair<std::string, absl::CivilMonth>, int64_t> by_provider_month;
  DataQuality& dq = report.data_quality;
  for (const RollupRow& r : in.rows) {
    report.spend_nano_usd += r.cost_nano_usd;
    Add(teams[r.team], r);
    Add(features[r.feature], r);
    tenants[r.tenant] += r.cost_nano_usd;
    by_provider_month[{r.provider, absl::CivilMonth(r.day)}] += r.cost_nano_usd;
    dq.unpriced_steps += r.unpriced_steps;
    dq.drift_steps += r.drift_steps;
    if (r.attribution_status == kStatusPending) {
      dq.pending_steps += r.steps;
      dq.pending_spend_nano_usd += r.cost_nano_usd;
    }
    if (IsUnattributed(r.attribution_status)) {
      auto& u = unattributed[r.attribution_reason.empty()
                                 ? r.attribution_status
                                 : absl::StrCat(r.attribution_status, ": ", r.attribution_reason)];
      u.first += r.steps;
      u.second += r.cost_nano_usd;
    }
    if (r.charge_class == kChargeClassCorrection) dq.correction_spend_nano_usd += r.cost_nano_usd;
  }
  std::map<std::string, std::pair<int64_t, int64_t>> quarantined;
  int64_t quarantined_spend = 0;
  for (const QuarantineRow& q : in.quarantine_rows) {
    auto& u = quarantined[q.reason];
    u.first += q.events;
    u.second += q.cost_nano_usd;
    quarantined_spend += q.cost_nano_usd;
    dq.unpriced_quarantined_events += q.unpriced_events;
    if (q.charge_class == kChargeClassCorrection) dq.correction_spend_nano_usd += q.cost_nano_usd;
  }

  report.teams = Lines(teams, "team", in);
  report.features = Lines(features, "feature", in);

  // "(unattributed)" is the bucket of steps without a tenant, not a tenant: it takes no part
  // in the median and is listed last.
  std::vector<int64_t> tenant_spend;
  for (const auto& [tenant, spend] : tenants) {
    if (tenant != domain::kUnattributed) tenant_spend.push_back(spend);
  }
  const std::vector<bool> risk = AboveMultipleOfMedian(tenant_spend, kMarginRiskMultiple);
  size_t i = 0;
  for (const auto& [tenant, spend] : tenants) {
    const bool bucket = tenant == domain::kUnattributed;
    report.tenants.push_back(TenantLine{tenant, spend, Share(spend, report.spend_nano_usd),
                                        bucket ? false : risk[i++], bucket});
  }
  std::stable_sort(report.tenants.begin(), report.tenants.end(),
                   [](const TenantLine& x, const TenantLine& y) {
                     if (x.unattributed != y.unattributed) return y.unattributed;
                     return x.spend_nano_usd > y.spend_nano_usd;
                   });

  std::map<std::tuple<std::string, std::string, std::string>, ToolOwnerLine> owners;
  for (const ToolOwnerRow& t : in.tool_owner_rows) {
    ToolOwnerLine& line = owners[{t.tool_owner_team, t.charged_team, t.charged_feature}];
    line.tool_owner_team = t.tool_owner_team;
    line.charged_team = t.charged_team;
    line.charged_feature = t.charged_feature;
    line.steps += t.steps;
    line.spend_nano_usd += t.cost_nano_usd;
  }
  for (auto& [key, line] : owners) report.tool_owners.push_back(std::move(line));
  std::stable_sort(report.tool_owners.begin(), report.tool_owners.end(),
                   [](const ToolOwnerLine& x, const ToolOwnerLine& y) {
                     return x.spend_nano_usd > y.spend_nano_usd;
                   });

  dq.quarantined_spend_nano_usd = quarantined_spend;
  dq.total_spend_nano_usd = report.spend_nano_usd + quarantined_spend;
  report.total_spend_nano_usd = dq.total_spend_nano_usd;
  report.caps = CapLines(in, teams, features, tenants, report.spend_nano_usd);
  report.unpriced = UnpricedLines(in.focus_rows);
  for (const auto& [reason, u] : unattributed) {
    dq.unattributed.push_back(UnattributedLine{"ledger", reason, u.first, u.second, 0});
    dq.unattributed_spend_nano_usd += u.second;
  }
  for (const auto& [reason, u] : quarantined) {
    dq.unattributed.push_back(UnattributedLine{"quarantine", reason, u.first, u.second, 0});
    dq.unattributed_spend_nano_usd += u.second;
  }
  for (UnattributedLine& u : dq.unattributed) {
    u.share = UnattributedShare(u.spend_nano_usd, dq.total_spend_nano_usd);
  }
  dq.unattributed_share =
      UnattributedShare(dq.unattributed_spend_nano_usd, dq.total_spend_nano_usd);

  for (const Invoice& inv : in.invoices) {
    auto it = by_provider_month.find({inv.provider, inv.month});
    report.invoices.push_back(
        ReconcileInvoice(inv, it == by_provider_month.end() ? 0 : it->second));
  }
  return report;
}

std::pair<absl::CivilDay, absl::CivilDay> InvoicedDays(const std::vector<Invoice>& invoices) {
  absl::CivilMonth first = invoices.front().month, last = first;
  for (const Invoice& invoice : invoices) {
    first = std::min(first, invoice.month);
    last = std::max(last, invoice.month);
  }
  return {absl::CivilDay(first), absl::CivilDay(last + 1) - 1};
}

std::vector<InvoiceLine> ReconcileImported(const ShowbackInputs& inputs,
                                           const std::vector<Invoice>& invoices) {
  std::vector<InvoiceLine> lines;
  for (InvoiceLine& line : BuildShowback(inputs, absl::UnixEpoch()).invoices) {
    for (const Invoice& invoice : invoices) {
      if (line.provider == invoice.provider && line.month == invoice.month) {
        lines.push_back(std::move(line));
        break;
      }
    }
  }
  return lines;
}

}  // namespace stepledger::domain::reports
