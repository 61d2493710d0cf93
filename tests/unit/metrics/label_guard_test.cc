#include "server/metrics/label_guard.h"

#include <prometheus/registry.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/metrics/metrics_test_util.h"

namespace stepledger::metrics {
namespace {

using testing::Sum;

TEST(LabelGuardTest, FirstValuesUpToTheLimitKeepTheirOwnValueAndLaterOnesFoldIntoOther) {
  prometheus::Registry registry;
  LabelGuard guard(registry, {.default_limit = 3, .limits = {}});
  EXPECT_EQ(guard.Admit("feature", "a"), "a");
  EXPECT_EQ(guard.Admit("feature", "b"), "b");
  EXPECT_EQ(guard.Admit("feature", "c"), "c");
  EXPECT_EQ(guard.Admit("feature", "d"), "other");
  EXPECT_EQ(guard.Admit("feature", "e"), "other");
  EXPECT_EQ(guard.Admit("feature", "d"), "other");  // a folded value stays folded
  EXPECT_EQ(guard.Admit("feature", "a"), "a");      // an admitted value stays admitted
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_folded_total", {{"label", "feature"}}), 3);
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_values", {{"label", "feature"}}), 3);
}

TEST(LabelGuardTest, AValueSeenSeveralTimesAtOnceFoldsThatManyTimes) {
  prometheus::Registry registry;
  LabelGuard guard(registry, {.default_limit = 1, .limits = {}});
  EXPECT_EQ(guard.Admit("team", "a", 4), "a");
  EXPECT_EQ(guard.Admit("team", "b", 3), "other");
  EXPECT_EQ(guard.Admit("team", "c"), "other");
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_folded_total", {{"label", "team"}}), 4);
}

TEST(LabelGuardTest, LimitsArePerLabelAndOverridesWin) {
  prometheus::Registry registry;
  LabelGuard guard(registry, {.default_limit = 2, .limits = {{"tenant", 1}}});
  EXPECT_EQ(guard.Limit("tenant"), 1u);
  EXPECT_EQ(guard.Limit("team"), 2u);
  EXPECT_EQ(guard.Admit("tenant", "t1"), "t1");
  EXPECT_EQ(guard.Admit("tenant", "t2"), "other");
  // The same value under another label has its own slots.
  EXPECT_EQ(guard.Admit("team", "t2"), "t2");
  EXPECT_EQ(guard.Admit("team", "t3"), "t3");
  EXPECT_EQ(guard.Admit("team", "t4"), "other");
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_folded_total", {{"label", "tenant"}}), 1);
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_folded_total", {{"label", "team"}}), 1);
}

TEST(LabelGuardTest, ZeroLimitFoldsEverything) {
  prometheus::Registry registry;
  LabelGuard guard(registry, {.default_limit = 0, .limits = {}});
  EXPECT_EQ(guard.Admit("tenant", "t1"), "other");
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_values", {{"label", "tenant"}}), 0);
}

TEST(LabelGuardTest, HundredThousandDistinctValuesStoreAtMostTheLimit) {
  prometheus::Registry registry;
  LabelGuard guard(registry, {.default_limit = 50, .limits = {}});
  int own = 0;
  for (int i = 0; i < 100'000; ++i) {
    if (guard.Admit("tenant", "tenant-" + std::to_string(i)) != "other") ++own;
  }
  EXPECT_EQ(own, 50);
  // The gauge reports the size of the stored set: the memory bound.
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_values", {{"label", "tenant"}}), 50);
  EXPECT_EQ(Sum(registry, "stepledger_metric_label_folded_total", {{"label", "tenant"}}),
            100'000 - 50);
}

}  // namespace
}  // namespace stepledger::metrics
