#include "server/metrics/pricing_metrics.h"

namespace stepledger::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

prometheus::Family<prometheus::Counter>& Spend(prometheus::Registry& registry) {
  return BuildCounter()
      .Name("stepledger_priced_spend_usd_total")
      .Help(
          "Spend of stored steps in USD, by cost source (computed from the catalog or "
          "reported by the gateway)")
      .Register(registry);
}

std::string_view ModelOf(const domain::Step& step) {
  if (!step.model.empty()) return step.model;
  if (!step.tool_name.empty()) return step.tool_name;
  return "(none)";
}

}  // namespace

std::string BoundedLabelSet::Fold(std::string_view value, bool* folded) {
  std::string key(value);  // Debian's Abseil hashes absl::string_view, not std::string_view
  absl::MutexLock lock(&mu_);
  if (kept_.contains(key) || kept_.size() < max_values_) {
    kept_.insert(key);
    *folded = false;
    return key;
  }
  *folded = true;
  return std::string(kOther);
}

size_t BoundedLabelSet::size() const {
  absl::MutexLock lock(&mu_);
  return kept_.size();
}

PricingMetrics::PricingMetrics(prometheus::Registry& registry, LabelGuard* guard)
    : unpriced_family_(BuildCounter()
                           .Name("stepledger_unpriced_steps_total")
                           .Help("Steps stored without a cost (never $0), by model and reason")
                           .Register(registry)),
      folded_(BuildCounter()
                  .Name("stepledger_unpriced_model_label_folded_total")
                  .Help("Unpriced steps counted as model=\"other\" because the model label "
                        "limit was reached")
                  .Register(registry)
                  .Add({})),
      spend_computed_(Spend(registry).Add({{"source", "computed"}})),
      spend_reported_(Spend(registry).Add({{"source", "reported"}})),
      info_family_(BuildGauge()
                       .Name("stepledger_price_catalog_info")
                       .Help("The newest stored price catalog version; always 1")
                       .Register(registry)),
      versions_(BuildGauge()
                    .Name("stepledger_price_catalog_versions")
                    .Help("Price catalog versions in the collector's price book")
                    .Register(registry)
                    .Add({})),
      reloads_family_(BuildCounter()
                          .Name("stepledger_price_catalog_reloads_total")
                          .Help("Price catalog loads and refreshes, by result")
                          .Register(registry)),
      models_(kMaxModelLabels),
      guard_(guard) {
  for (const char* result : {"created", "unchanged", "refreshed", "error"}) {
    reloads_family_.Add({{"result", result}});
  }
}

void PricingMetrics::OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                                      absl::Span<const domain::ingest::Outcome> outcomes,
                                      absl::Duration latency) {
  // Summed per group in integer nano-USD (exact), then one increment per counter: every
  // stored step passes here, and each increment is an atomic read-modify-write.
  domain::NanoUsd computed = 0, reported = 0;
  bool any_computed = false, any_reported = false;
  for (size_t i = 0; i < items.size() && i < outcomes.size(); ++i) {
    if (outcomes[i] != domain::ingest::Outcome::kAccepted) continue;
    const domain::ingest::IngestItem& item = *items[i];
    switch (item.cost_source) {
      case domain::ingest::CostSource::kUnpriced:
        OnUnpricedStep(ModelOf(item.step), item.unpriced_reason);
        break;
      case domain::ingest::CostSource::kComputed:
        any_computed = true;
        computed += item.cost_nano_usd.value_or(0);
        break;
      case domain::ingest::CostSource::kReported:
        any_reported = true;
        reported += item.cost_nano_usd.value_or(0);
        break;
    }
  }
  const auto usd = [](domain::NanoUsd nano) {
    return static_cast<double>(nano) / static_cast<double>(domain::kNanoUsdPerUsd);
  };
  if (any_computed) spend_computed_.Increment(usd(computed));
  if (any_reported) spend_reported_.Increment(usd(reported));
}

void PricingMetrics::OnUnpricedStep(std::string_view model, std::string_view reason) {
  bool folded = false;
  // With the process's shared guard, the model label is bounded like every other label that
  // comes from clients (and folds are counted in stepledger_metric_label_folded_total too).
  const std::string label =
      guard_ != nullptr ? guard_->Admit("model", model) : models_.Fold(model, &folded);
  if (guard_ != nullptr)
    folded = label == BoundedLabelSet::kOther && model != BoundedLabelSet::kOther;
  if (folded) folded_.Increment();
  unpriced_family_
      .Add({{"model", label}, {"reason", reason.empty() ? "unknown" : std::string(reason)}})
      .Increment();
}

void PricingMetrics::OnCatalogReload(ReloadResult result) {
  const char* label = "error";
  switch (result) {
    case ReloadResult::kCreated:
      label = "created";
      break;
    case ReloadResult::kUnchanged:
      label = "unchanged";
      break;
    case ReloadResult::kRefreshed:
      label = "refreshed";
      break;
    case ReloadResult::kError:
      break;
  }
  reloads_family_.Add({{"result", label}}).Increment();
}

void PricingMetrics::SetCatalogVersion(const std::string& newest_version_id, size_t versions) {
  versions_.Set(static_cast<double>(versions));
  absl::MutexLock lock(&mu_);
  if (info_ != nullptr) info_family_.Remove(info_);
  info_ = nullptr;
  if (!newest_version_id.empty()) {
    info_ = &info_family_.Add({{"version", newest_version_id}});
    info_->Set(1);
  }
}

}  // namespace stepledger::metrics
