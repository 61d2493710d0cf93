#include "server/metrics/pricing_metrics.h"

#include <prometheus/registry.h>

#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace stepledger::metrics {
namespace {

using domain::ingest::CostSource;
using domain::ingest::IngestItem;
using domain::ingest::Outcome;

// Every sample of a metric family as (labels -> value).
std::map<std::map<std::string, std::string>, double> Samples(prometheus::Registry& registry,
                                                             const std::string& name) {
  std::map<std::map<std::string, std::string>, double> out;
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      out[labels] = f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return out;
}

TEST(BoundedLabelSetTest, KeepsTheFirstValuesAndFoldsTheRestIntoOther) {
  BoundedLabelSet set(3);
  bool folded = true;
  for (const char* v : {"a", "b", "c"}) {
    EXPECT_EQ(set.Fold(v, &folded), v);
    EXPECT_FALSE(folded);
  }
  EXPECT_EQ(set.Fold("d", &folded), "other");
  EXPECT_TRUE(folded);
  EXPECT_EQ(set.Fold("a", &folded), "a");  // kept values stay themselves
  EXPECT_FALSE(folded);
  EXPECT_EQ(set.size(), 3u);
}

TEST(PricingMetricsTest, UnpricedModelLabelsAreBoundedAndTheFoldIsCounted) {
  prometheus::Registry registry;
  PricingMetrics metrics(registry);
  for (int i = 0; i < 60; ++i) metrics.OnUnpricedStep(absl::StrCat("model-", i), "unknown_model");
  metrics.OnUnpricedStep("model-0", "missing_usage");
  auto unpriced = Samples(registry, "stepledger_unpriced_steps_total");
  std::set<std::string> models;
  double total = 0;
  for (const auto& [labels, value] : unpriced) {
    models.insert(labels.at("model"));
    total += value;
  }
  EXPECT_EQ(models.size(), PricingMetrics::kMaxModelLabels + 1);  // 50 + "other"
  EXPECT_EQ(total, 61);
  EXPECT_EQ((unpriced[{{"model", "other"}, {"reason", "unknown_model"}}]), 10);
  EXPECT_EQ((unpriced[{{"model", "model-0"}, {"reason", "missing_usage"}}]), 1);
  EXPECT_EQ((Samples(registry, "stepledger_unpriced_model_label_folded_total")[{}]), 10);
}

TEST(PricingMetricsTest, WithTheSharedGuardTheModelLabelFollowsItsLimit) {
  prometheus::Registry registry;
  LabelGuard guard(registry, {.default_limit = 100, .limits = {{"model", 3}}});
  PricingMetrics metrics(registry, &guard);
  for (int i = 0; i < 10; ++i) metrics.OnUnpricedStep(absl::StrCat("model-", i), "unknown_model");
  auto unpriced = Samples(registry, "stepledger_unpriced_steps_total");
  std::set<std::string> models;
  for (const auto& [labels, value] : unpriced) models.insert(labels.at("model"));
  EXPECT_EQ(models.size(), 4u);  // 3 + "other"
  EXPECT_EQ((unpriced[{{"model", "other"}, {"reason", "unknown_model"}}]), 7);
  EXPECT_EQ((Samples(registry, "stepledger_unpriced_model_label_folded_total")[{}]), 7);
  EXPECT_EQ((Samples(registry, "stepledger_metric_label_folded_total")[{{"label", "model"}}]), 7);
}

TEST(PricingMetricsTest, CountsOnlyStepsStoredForTheFirstTime) {
  prometheus::Registry registry;
  PricingMetrics metrics(registry);
  IngestItem computed, reported, unpriced, duplicate;
  computed.cost_source = CostSource::kComputed;
  computed.cost_nano_usd = 1'500'000'000;  // $1.50
  reported.cost_source = CostSource::kReported;
  reported.cost_nano_usd = 250'000'000;
  unpriced.step.model = "acme-large";
  unpriced.unpriced_reason = "unknown_model";
  duplicate.cost_source = CostSource::kComputed;
  duplicate.cost_nano_usd = 9'000'000'000;
  const IngestItem* items[] = {&computed, &reported, &unpriced, &duplicate};
  const Outcome outcomes[] = {Outcome::kAccepted, Outcome::kAccepted, Outcome::kAccepted,
                              Outcome::kDuplicate};
  metrics.OnGroupCommitted(items, outcomes, absl::Milliseconds(1));
  auto spend = Samples(registry, "stepledger_priced_spend_usd_total");
  EXPECT_DOUBLE_EQ((spend[{{"source", "computed"}}]), 1.5);
  EXPECT_DOUBLE_EQ((spend[{{"source", "reported"}}]), 0.25);
  EXPECT_EQ((Samples(registry, "stepledger_unpriced_steps_total")[{{"model", "acme-large"},
                                                                   {"reason", "unknown_model"}}]),
            1);
}

TEST(PricingMetricsTest, CatalogInfoShowsOnlyTheNewestVersion) {
  prometheus::Registry registry;
  PricingMetrics metrics(registry);
  metrics.SetCatalogVersion("v1", 1);
  metrics.SetCatalogVersion("v2", 2);
  auto info = Samples(registry, "stepledger_price_catalog_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ((info[{{"version", "v2"}}]), 1);
  EXPECT_EQ((Samples(registry, "stepledger_price_catalog_versions")[{}]), 2);
  metrics.OnCatalogReload(PricingMetrics::ReloadResult::kCreated);
  EXPECT_EQ((Samples(registry, "stepledger_price_catalog_reloads_total")[{{"result", "created"}}]),
            1);
}

}  // namespace
}  // namespace stepledger::metrics
