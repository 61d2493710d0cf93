#include "server/metrics/spend_metrics.h"

#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/unit/metrics/metrics_test_util.h"

namespace stepledger::metrics {
namespace {

using domain::ingest::CostSource;
using domain::ingest::IngestItem;
using domain::ingest::Outcome;
using testing::Series;
using testing::Sum;

constexpr domain::NanoUsd kUnit = 1'953'125;  // 1/512 USD: sums are exact in binary

IngestItem Item(std::string feature, std::string team, std::string tenant,
                std::optional<domain::NanoUsd> cost) {
  IngestItem item;
  item.step.event_id = "e-" + feature + team + tenant;
  item.step.kind = domain::StepKind::kModelCall;
  item.charged.feature = std::move(feature);
  item.charged.team = std::move(team);
  item.charged.tenant = std::move(tenant);
  item.charged.workload_class = domain::WorkloadClass::kInteractive;
  item.charged.environment = domain::Environment::kProduction;
  item.step.tags = item.charged;
  item.cost_nano_usd = cost;
  item.cost_source = cost.has_value() ? CostSource::kReported : CostSource::kUnpriced;
  return item;
}

class SpendMetricsTest : public ::testing::Test {
 protected:
  void Commit(const std::vector<IngestItem>& items, std::vector<Outcome> outcomes = {}) {
    std::vector<const IngestItem*> ptrs;
    for (const IngestItem& i : items) ptrs.push_back(&i);
    if (outcomes.empty()) outcomes.assign(items.size(), Outcome::kAccepted);
    metrics_.OnGroupCommitted(ptrs, outcomes, absl::Milliseconds(1));
  }

  prometheus::Registry registry_;
  LabelGuard guard_{registry_, {.default_limit = 10}};
  stepledger::testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  SpendMetrics metrics_{registry_, guard_, clock_, {.top_tenants = 3}};
};

TEST_F(SpendMetricsTest, OnlyAcceptedItemsCountSoReSendsNeverDoubleCount) {
  std::vector<IngestItem> items = {
      Item("doc-qa", "knowledge", "t1", 3 * kUnit), Item("doc-qa", "knowledge", "t1", 5 * kUnit),
      Item("doc-qa", "knowledge", "t1", 7 * kUnit), Item("doc-qa", "knowledge", "t1", 11 * kUnit)};
  Commit(items,
         {Outcome::kAccepted, Outcome::kDuplicate, Outcome::kConflict, Outcome::kQuarantinedAgain});
  Commit(items, std::vector<Outcome>(4, Outcome::kDuplicate));  // the re-send
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total"), 3.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total",
                {{"feature", "doc-qa"},
                 {"team", "knowledge"},
                 {"workload_class", "interactive"},
                 {"environment", "production"},
                 {"kind", "model_call"}}),
            3.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_tenant_spend_usd_total", {{"tenant", "t1"}}), 3.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_steps_stored_total"), 1);
}

TEST_F(SpendMetricsTest, HundredThousandTenantsGiveAtMostTopNPlusOneSeriesAndExactSum) {
  domain::NanoUsd total = 0;
  for (int g = 0; g < 100; ++g) {
    std::vector<IngestItem> group;
    for (int i = 0; i < 1000; ++i) {
      const int n = g * 1000 + i;
      group.push_back(
          Item("doc-qa", "knowledge", "tenant-" + std::to_string(n), (1 + n % 7) * kUnit));
      total += (1 + n % 7) * kUnit;
    }
    Commit(group);
  }
  const auto tenants = Series(registry_, "stepledger_tenant_spend_usd_total");
  EXPECT_EQ(tenants.size(), 3u + 1u);
  EXPECT_EQ(Sum(registry_, "stepledger_tenant_spend_usd_total"), static_cast<double>(total) / 1e9);
  EXPECT_GT(Sum(registry_, "stepledger_tenant_spend_usd_total", {{"tenant", "other"}}), 0);
  // The whole exposition stays small: no series per tenant.
  const std::string text = testing::Exposition(registry_);
  EXPECT_FALSE(absl::StrContains(text, "tenant-99999"));
  EXPECT_LT(text.size(), 16u * 1024u);
}

// The slots go to the largest spenders, not to whoever came first: three small tenants take the
// free slots, a large one that starts later gets a slot at the next re-choice, and the smallest
// loses its series. Every dollar is in exactly one series when it is counted.
TEST_F(SpendMetricsTest, TenantSlotsGoToTheLargestSpendersNotTheFirstSeen) {
  Commit({Item("f", "t", "early-1", 1 * kUnit), Item("f", "t", "early-2", 2 * kUnit),
          Item("f", "t", "early-3", 3 * kUnit)});
  Commit({Item("f", "t", "big", 100 * kUnit)});
  const std::string name = "stepledger_tenant_spend_usd_total";
  EXPECT_EQ(Sum(registry_, name, {{"tenant", "big"}}), 0);
  EXPECT_EQ(Sum(registry_, name, {{"tenant", "other"}}), 100.0 / 512);
  EXPECT_EQ(Sum(registry_, name), 106.0 / 512);

  clock_.Advance(absl::Minutes(1));
  // This group's counting happens after the re-choice: big holds a slot, early-1 does not.
  Commit({Item("f", "t", "big", 10 * kUnit), Item("f", "t", "early-1", 1 * kUnit)});
  EXPECT_EQ(Sum(registry_, name, {{"tenant", "big"}}), 10.0 / 512);
  EXPECT_EQ(Sum(registry_, name, {{"tenant", "early-1"}}), 0);
  EXPECT_EQ(Sum(registry_, name, {{"tenant", "other"}}), 101.0 / 512);
  EXPECT_EQ(Series(registry_, name).size(), 3u + 1u);
  for (const auto& [labels, value] : Series(registry_, name)) {
    EXPECT_NE(labels.at("tenant"), "early-1");  // its series was removed with its slot
  }
}

// A client sending tenants that spend a cent each cannot keep a real spender out for good.
TEST_F(SpendMetricsTest, ManyTinyTenantsCannotHoldTheSlotsAgainstARealSpender) {
  std::vector<IngestItem> tiny;
  for (int i = 0; i < 10'000; ++i) tiny.push_back(Item("f", "t", "tiny-" + std::to_string(i), 1));
  Commit(tiny);
  for (int minute = 0; minute < 3; ++minute) {
    Commit({Item("f", "t", "acme", 50 * kUnit)});
    Commit(tiny);
    clock_.Advance(absl::Minutes(1));
  }
  Commit({Item("f", "t", "acme", kUnit)});
  // Counted as "other" until the first re-choice, in its own series ever since.
  EXPECT_EQ(Sum(registry_, "stepledger_tenant_spend_usd_total", {{"tenant", "acme"}}), 101.0 / 512);
  EXPECT_LE(Series(registry_, "stepledger_tenant_spend_usd_total").size(), 3u + 1u);
}

TEST_F(SpendMetricsTest, HundredThousandFeaturesAndTeamPairsStayWithinTheLabelLimit) {
  domain::NanoUsd total = 0;
  std::vector<IngestItem> group;
  for (int n = 0; n < 100'000; ++n) {
    // Ten features and ten teams, all admitted one by one, but 100 pairs: the pair guard folds.
    group.push_back(Item(n < 50'000 ? "f-" + std::to_string(n % 10) : "f-" + std::to_string(n),
                         "team-" + std::to_string((n / 10) % 10), "t1", kUnit));
    total += kUnit;
  }
  Commit(group);
  const auto spend = Series(registry_, "stepledger_spend_usd_total");
  EXPECT_LE(spend.size(), 10u + 1u);
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total"), static_cast<double>(total) / 1e9);
  EXPECT_EQ(Series(registry_, "stepledger_tokens_total").size(), 0u);
  EXPECT_EQ(Series(registry_, "stepledger_retry_spend_usd_total").size(), 0u);
  EXPECT_GT(Sum(registry_, "stepledger_metric_label_folded_total", {{"label", "feature_team"}}), 0);
  EXPECT_EQ(Sum(registry_, "stepledger_metric_label_values", {{"label", "feature"}}), 10);
}

TEST_F(SpendMetricsTest, AGroupSummedPerChargeStillCountsEveryStepsFold) {
  // Ten features take the guard's ten slots; five steps of an eleventh in one group fold five
  // times (as five steps admitted one by one would), and their spend goes to "other".
  std::vector<IngestItem> first;
  for (int f = 0; f < 10; ++f) first.push_back(Item("f-" + std::to_string(f), "t", "x", kUnit));
  Commit(first);
  std::vector<IngestItem> second(5, Item("late", "t", "x", kUnit));
  second.push_back(Item("f-3", "t", "x", 2 * kUnit));
  Commit(second);
  EXPECT_EQ(Sum(registry_, "stepledger_metric_label_folded_total", {{"label", "feature"}}), 5);
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total", {{"feature", "other"}}), 5.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total", {{"feature", "f-3"}}), 3.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_steps_stored_total"), 16);
}

TEST_F(SpendMetricsTest, DefaultedAndPendingSpendIsUnattributedByReason) {
  IngestItem defaulted = Item("(unattributed)", "(unattributed)", "(unattributed)", 2 * kUnit);
  defaulted.status = domain::AttributionStatus::kDefaulted;
  defaulted.charged.environment = domain::Environment::kStaging;
  IngestItem pending = Item("(pending)", "(pending)", "(pending)", 4 * kUnit);
  pending.status = domain::AttributionStatus::kPending;
  IngestItem complete = Item("doc-qa", "knowledge", "t1", 8 * kUnit);
  Commit({defaulted, pending, complete});
  EXPECT_EQ(Sum(registry_, "stepledger_unattributed_spend_usd_total", {{"reason", "defaulted"}}),
            2.0 / 512);
  EXPECT_EQ(
      Sum(registry_, "stepledger_unattributed_spend_usd_total", {{"reason", "pending_at_commit"}}),
      4.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_unattributed_spend_usd_total"), 6.0 / 512);
  // Still spend: charged to the placeholders, so the total is the whole ledger.
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total"), 14.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total",
                {{"feature", "(unattributed)"}, {"environment", "staging"}}),
            2.0 / 512);
}

TEST_F(SpendMetricsTest, TokensByBucketSkipUnknownCountsAndRetriesAreCountedSeparately) {
  IngestItem first = Item("doc-qa", "knowledge", "t1", 1 * kUnit);
  first.step.usage.input_uncached_tokens = 100;
  first.step.usage.output_tokens = 20;
  IngestItem retry = Item("doc-qa", "knowledge", "t1", 2 * kUnit);
  retry.step.attempt = 2;
  retry.step.usage.input_uncached_tokens = 50;
  retry.step.usage.cache_read_tokens = 30;
  Commit({first, retry});
  EXPECT_EQ(Sum(registry_, "stepledger_tokens_total", {{"bucket", "input_uncached"}}), 150);
  EXPECT_EQ(Sum(registry_, "stepledger_tokens_total", {{"bucket", "cache_read"}}), 30);
  EXPECT_EQ(Sum(registry_, "stepledger_tokens_total", {{"bucket", "output"}}), 20);
  EXPECT_EQ(Series(registry_, "stepledger_tokens_total").size(), 3u);  // no reasoning series
  EXPECT_EQ(Sum(registry_, "stepledger_retry_spend_usd_total",
                {{"feature", "doc-qa"}, {"team", "knowledge"}}),
            2.0 / 512);
}

TEST_F(SpendMetricsTest, UnpricedStepsAreCountedButAddNoSpend) {
  IngestItem unpriced = Item("doc-qa", "knowledge", "t1", std::nullopt);
  Commit({unpriced, Item("doc-qa", "knowledge", "t1", kUnit)});
  EXPECT_EQ(Sum(registry_, "stepledger_spend_usd_total"), 1.0 / 512);
  EXPECT_EQ(Sum(registry_, "stepledger_steps_stored_total", {{"cost_source", "unpriced"}}), 1);
  EXPECT_EQ(Sum(registry_, "stepledger_steps_stored_total", {{"cost_source", "reported"}}), 1);
}

}  // namespace
}  // namespace stepledger::metrics
