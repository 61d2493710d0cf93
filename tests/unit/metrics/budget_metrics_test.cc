// BudgetMetrics: per-cap gauges read from the engine's counters on every refresh (no probe
// checks), relabelled when a cap's labels change and removed with the cap; decision counters by
// decision and deciding scope.
#include "server/metrics/budget_metrics.h"

#include <prometheus/registry.h>

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "server/domain/budget/engine.h"
#include "tests/fakes/fake_clock.h"
#include "tests/unit/budget/budget_test_util.h"
#include "tests/unit/metrics/metrics_test_util.h"

namespace stepledger::metrics {
namespace {

using domain::NanoUsd;
using domain::budget::BudgetEngine;
using domain::budget::Cap;
using domain::budget::CheckResult;
using domain::budget::Decision;
using domain::budget::Period;
using domain::budget::Scope;
using domain::budget::testing::kUsd;
using domain::budget::testing::MakeCap;
using domain::budget::testing::ProdTags;
using domain::budget::testing::Utc;
using testing::Series;
using testing::Sum;

class BudgetMetricsTest : public ::testing::Test {
 protected:
  void Put(const Cap& cap) { ASSERT_TRUE(engine_.UpsertCap(cap).ok()); }

  stepledger::testing::FakeClock clock_{Utc(2024, 3, 14, 12)};
  BudgetEngine engine_{clock_};
  prometheus::Registry registry_;
  BudgetMetrics metrics_{registry_, clock_};
};

TEST_F(BudgetMetricsTest, RefreshExportsEachCapsUtilisationLimitThresholdSpentAndPeriodEnd) {
  Put(MakeCap("team-search", Scope::kTeam, 200 * kUsd, Period::kMonthly));
  Put(MakeCap("org", Scope::kOrg, 1000 * kUsd, Period::kDaily));
  ASSERT_TRUE(engine_.RecordSpend(ProdTags(), 50 * kUsd, clock_.Now(), "").ok());

  metrics_.OnRefresh(engine_);

  const std::map<std::string, std::string> team = {{"cap_id", "team-search"},
                                                   {"scope", "team"},
                                                   {"key", "search"},
                                                   {"period", "monthly"},
                                                   {"owner_team", "lead@example.com"}};
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_utilisation_ratio", team), 0.25);
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_limit_usd", team), 200);
  // The default alert threshold, 80% of the limit: alert rules compare utilisation with it.
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_alert_threshold_ratio", team), 0.8);
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_spent_usd", team), 50);
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_period_end_seconds", team),
                   absl::ToDoubleSeconds(Utc(2024, 4, 1) - clock_.Now()));
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_utilisation_ratio", {{"cap_id", "org"}}),
                   0.05);
}

TEST_F(BudgetMetricsTest, GaugesFollowSpendAcrossRefreshes) {
  Put(MakeCap("tenant", Scope::kTenant, 100 * kUsd, Period::kMonthly));
  metrics_.OnRefresh(engine_);
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_spent_usd", {{"cap_id", "tenant"}}), 0);
  ASSERT_TRUE(engine_.RecordSpend(ProdTags(), 30 * kUsd, clock_.Now(), "").ok());
  metrics_.OnRefresh(engine_);
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_spent_usd", {{"cap_id", "tenant"}}), 30);
  EXPECT_EQ(Series(registry_, "stepledger_budget_spent_usd").size(), 1u);
}

TEST_F(BudgetMetricsTest, DeletedCapsSeriesAreRemoved) {
  Put(MakeCap("a", Scope::kFeature, 10 * kUsd));
  Put(MakeCap("b", Scope::kTeam, 10 * kUsd));
  metrics_.OnRefresh(engine_);
  ASSERT_EQ(Series(registry_, "stepledger_budget_limit_usd").size(), 2u);
  ASSERT_TRUE(engine_.DeleteCap("a").ok());
  metrics_.OnRefresh(engine_);
  const auto series = Series(registry_, "stepledger_budget_limit_usd");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].first.at("cap_id"), "b");
}

TEST_F(BudgetMetricsTest, ANewOwnerGetsAFreshSeriesNotAStaleOne) {
  Cap cap = MakeCap("team", Scope::kTeam, 10 * kUsd);
  Put(cap);
  metrics_.OnRefresh(engine_);
  cap.owner = "new-owner";
  Put(cap);
  metrics_.OnRefresh(engine_);
  const auto series = Series(registry_, "stepledger_budget_limit_usd");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].first.at("owner_team"), "new-owner");
}

TEST_F(BudgetMetricsTest, ANewLimitKeepsTheSeriesAndUpdatesIt) {
  Cap cap = MakeCap("team", Scope::kTeam, 10 * kUsd);
  Put(cap);
  metrics_.OnRefresh(engine_);
  cap.limit_nano_usd = 20 * kUsd;
  Put(cap);
  metrics_.OnRefresh(engine_);
  const auto series = Series(registry_, "stepledger_budget_limit_usd");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_DOUBLE_EQ(series[0].second, 20);
}

TEST_F(BudgetMetricsTest, DecisionsAreCountedByDecisionAndDecidingScope) {
  CheckResult allow;
  CheckResult alert;
  alert.decision = Decision::kAlert;
  alert.deciding_scope = Scope::kTenant;
  CheckResult ack;
  ack.decision = Decision::kRequireAck;
  ack.deciding_scope = Scope::kTeam;
  for (int i = 0; i < 3; ++i) metrics_.OnCheck(allow, absl::Microseconds(1));
  for (int i = 0; i < 2; ++i) metrics_.OnCheck(alert, absl::Microseconds(1));
  metrics_.OnCheck(ack, absl::Microseconds(1));

  const std::string name = "stepledger_budget_decisions_total";
  EXPECT_EQ(Sum(registry_, name, {{"decision", "allow"}, {"scope", "none"}}), 3);
  EXPECT_EQ(Sum(registry_, name, {{"decision", "alert"}, {"scope", "tenant"}}), 2);
  EXPECT_EQ(Sum(registry_, name, {{"decision", "require_ack"}, {"scope", "team"}}), 1);
  EXPECT_EQ(Series(registry_, name).size(), 3u);  // only combinations that occurred
}

TEST_F(BudgetMetricsTest, CounterReadsAreCountedByKindWithTheirRows) {
  metrics_.OnCounterRead(/*full=*/true, 10'000);
  metrics_.OnCounterRead(/*full=*/false, 3);
  metrics_.OnCounterRead(/*full=*/false, 0);
  EXPECT_EQ(Sum(registry_, "stepledger_budget_spend_reads_total", {{"read", "full"}}), 1);
  EXPECT_EQ(Sum(registry_, "stepledger_budget_spend_reads_total", {{"read", "changed"}}), 2);
  EXPECT_EQ(Sum(registry_, "stepledger_budget_spend_rows_read_total", {{"read", "full"}}), 10'000);
  EXPECT_EQ(Sum(registry_, "stepledger_budget_spend_rows_read_total", {{"read", "changed"}}), 3);
}

TEST_F(BudgetMetricsTest, StaleAnswersAreCountedByTheStrongestPolicyAndTheAgeIsAGauge) {
  auto status_of = [](Cap cap, bool shadow = false) {
    cap.shadow = shadow;
    domain::budget::CapStatus st;
    st.cap = std::make_shared<const Cap>(domain::budget::ApplyCapDefaults(std::move(cap)));
    return st;
  };
  CheckResult stale;
  stale.stale = true;
  stale.caps = {status_of(MakeCap("feature", Scope::kFeature, kUsd)),
                status_of(MakeCap("team", Scope::kTeam, kUsd))};
  CheckResult stale_alert_only = stale;
  stale_alert_only.caps = {status_of(MakeCap("feature", Scope::kFeature, kUsd)),
                           status_of(MakeCap("team", Scope::kTeam, kUsd), /*shadow=*/true)};
  CheckResult stale_no_cap;
  stale_no_cap.stale = true;
  CheckResult fresh = stale;
  fresh.stale = false;
  metrics_.OnCheck(stale, absl::Microseconds(1));
  metrics_.OnCheck(stale, absl::Microseconds(1));
  metrics_.OnCheck(stale_alert_only, absl::Microseconds(1));  // a shadow cap does not count
  metrics_.OnCheck(stale_no_cap, absl::Microseconds(1));
  metrics_.OnCheck(fresh, absl::Microseconds(1));
  const std::string name = "stepledger_budget_stale_answers_total";
  EXPECT_EQ(Sum(registry_, name, {{"policy", "require_ack"}}), 2);
  EXPECT_EQ(Sum(registry_, name, {{"policy", "alert"}}), 1);
  EXPECT_EQ(Sum(registry_, name, {{"policy", "none"}}), 1);
  EXPECT_EQ(Sum(registry_, name, {{"policy", "answer"}}), 0);

  metrics_.OnCountersAge(absl::Milliseconds(13'500));
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_counters_age_seconds"), 13.5);
  metrics_.OnCountersAge(std::nullopt);
  EXPECT_TRUE(std::isinf(Sum(registry_, "stepledger_budget_counters_age_seconds")));
}

// Per-cap series are bounded: with more caps than top_caps, the largest spenders keep their own
// series and the rest are summed into cap_id="other".
class TopCapsTest : public ::testing::Test {
 protected:
  void Put(const Cap& cap) { ASSERT_TRUE(engine_.UpsertCap(cap).ok()); }
  // A tenant cap "cap-<i>" on tenant "tenant-<i>" with `spent` USD of spend.
  void PutTenantCap(int i, NanoUsd limit, NanoUsd spent) {
    Cap cap = MakeCap("cap-" + std::to_string(i), Scope::kTenant, limit, Period::kMonthly);
    cap.key = "tenant-" + std::to_string(i);
    Put(cap);
    Spend(i, spent);
  }
  void Spend(int i, NanoUsd spent) {
    if (spent == 0) return;
    ASSERT_TRUE(engine_
                    .RecordSpend(ProdTags("inbox-triage", "search", "tenant-" + std::to_string(i)),
                                 spent, clock_.Now(), "")
                    .ok());
  }
  std::set<std::string> CapIds() {
    std::set<std::string> ids;
    for (const auto& [labels, value] : Series(registry_, "stepledger_budget_spent_usd")) {
      ids.insert(labels.at("cap_id"));
    }
    return ids;
  }

  stepledger::testing::FakeClock clock_{Utc(2024, 3, 14, 12)};
  BudgetEngine engine_{clock_};
  prometheus::Registry registry_;
  BudgetMetrics top_metrics_{registry_, clock_, {.top_caps = 3}};
};

TEST_F(TopCapsTest, ThousandCapsGiveTopNSeriesPlusOneOtherWithTheRestSummed) {
  double total_limit = 0;
  double total_spent = 0;
  for (int i = 0; i < 1000; ++i) {
    PutTenantCap(i, 1000 * kUsd, (i % 500) * kUsd);  // caps 499 and 999 spend most
    total_limit += 1000;
    total_spent += i % 500;
  }
  top_metrics_.OnRefresh(engine_);
  EXPECT_EQ(CapIds(), (std::set<std::string>{"cap-498", "cap-499", "cap-999", "other"}));
  for (const char* family : {"stepledger_budget_utilisation_ratio", "stepledger_budget_limit_usd",
                             "stepledger_budget_spent_usd"}) {
    EXPECT_EQ(Series(registry_, family).size(), 3u + 1u) << family;
  }
  EXPECT_EQ(Series(registry_, "stepledger_budget_period_end_seconds").size(), 3u);
  const std::map<std::string, std::string> other = {{"cap_id", "other"}, {"scope", "other"}};
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_limit_usd", other), total_limit - 3000);
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_spent_usd", other),
                   total_spent - 499 - 499 - 498);
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_caps_other"), 997);
  // Everything is accounted for: own series plus "other" is every cap's limit.
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_limit_usd"), total_limit);
}

TEST_F(TopCapsTest, SlotsAreReChosenByLargestSpendNotFirstCreated) {
  for (int i = 0; i < 5; ++i) PutTenantCap(i, 1000 * kUsd, (10 - i) * kUsd);
  top_metrics_.OnRefresh(engine_);
  EXPECT_EQ(CapIds(), (std::set<std::string>{"cap-0", "cap-1", "cap-2", "other"}));
  Spend(4, 500 * kUsd);  // the last cap becomes the largest spender
  top_metrics_.OnRefresh(engine_);
  EXPECT_EQ(CapIds(), (std::set<std::string>{"cap-0", "cap-1", "cap-2", "other"}));  // kept
  clock_.Advance(absl::Minutes(1));
  top_metrics_.OnRefresh(engine_);
  EXPECT_EQ(CapIds(), (std::set<std::string>{"cap-4", "cap-0", "cap-1", "other"}));
}

TEST_F(TopCapsTest, ACapThatCrossesItsLimitGetsItsSeriesAtOnceSoItsAlertFires) {
  PutTenantCap(0, 1000 * kUsd, 300 * kUsd);
  PutTenantCap(1, 1000 * kUsd, 200 * kUsd);
  PutTenantCap(2, 1000 * kUsd, 100 * kUsd);
  PutTenantCap(3, 10 * kUsd, 1 * kUsd);  // small, but close to its limit
  top_metrics_.OnRefresh(engine_);
  EXPECT_EQ(CapIds(), (std::set<std::string>{"cap-0", "cap-1", "cap-2", "other"}));
  Spend(3, 9 * kUsd);               // 10 of 10: crossed
  top_metrics_.OnRefresh(engine_);  // no re-choice due, yet it takes the smallest one's slot
  EXPECT_EQ(CapIds(), (std::set<std::string>{"cap-0", "cap-1", "cap-3", "other"}));
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_utilisation_ratio", {{"cap_id", "cap-3"}}),
                   1.0);
}

TEST_F(TopCapsTest, NoOtherSeriesWhileEveryCapHasItsOwn) {
  PutTenantCap(0, 10 * kUsd, kUsd);
  PutTenantCap(1, 10 * kUsd, kUsd);
  top_metrics_.OnRefresh(engine_);
  EXPECT_EQ(CapIds(), (std::set<std::string>{"cap-0", "cap-1"}));
  EXPECT_DOUBLE_EQ(Sum(registry_, "stepledger_budget_caps_other"), 0);
}

}  // namespace
}  // namespace stepledger::metrics
