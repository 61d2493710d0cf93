// The engine keeps counters only for keys some cap watches and for the org: its memory and the
// refresh's work (ExportLocalCounters, ApplyFullSnapshot) follow the caps, never the number of
// tenants, features or teams ever seen (issue 15, item 4).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/domain/budget/engine.h"
#include "server/domain/budget/period.h"
#include "tests/unit/budget/engine_fixture.h"

namespace stepledger::domain::budget {
namespace {

using testing::EngineTest;
using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using testing::Req;
using testing::ReserveReq;

using BoundedCountersTest = EngineTest;

Tags TenantTags(int i) {
  return ProdTags("inbox-triage", "search", absl::StrCat("tenant-", i), absl::StrCat("run-", i));
}

CounterKey DailyKey(Scope scope, std::string key, absl::Time now) {
  return {scope, std::move(key), Environment::kProduction, Period::kDaily,
          PeriodStart(Period::kDaily, now)};
}

TEST_F(BoundedCountersTest, SpendOnTenThousandUnwatchedTenantsAddsNoCounter) {
  Put(MakeCap("tenant-acme", Scope::kTenant, 100 * kUsd));
  Put(MakeCap("team", Scope::kTeam, 1'000 * kUsd));
  for (int i = 0; i < 10'000; ++i) Spend(kUsd, absl::StrCat("s", i), TenantTags(i));
  // Watched: team "search", tenant "acme" (no step of theirs here) and the org.
  EXPECT_EQ(engine_.Stats().counters, 4u) << "team and org, 2 periods each";
  EXPECT_EQ(engine_.ExportLocalCounters().size(), 4u);
  const CheckResult r = MustCheck(Req(0, TenantTags(1)));
  ASSERT_EQ(r.caps.size(), 1u);
  EXPECT_EQ(StatusOf(r, "team").spent, 10'000 * kUsd) << "the watched key counts every step";
}

TEST_F(BoundedCountersTest, SnapshotRowsOfUnwatchedKeysAreIgnored) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  SharedSnapshot snapshot{clock_.Now(), {}};
  for (int i = 0; i < 1'000; ++i) {
    snapshot.rows.push_back({DailyKey(Scope::kTenant, absl::StrCat("t", i), clock_.Now()), kUsd});
  }
  snapshot.rows.push_back({DailyKey(Scope::kTeam, "search", clock_.Now()), 20 * kUsd});
  snapshot.rows.push_back({DailyKey(Scope::kOrg, "*", clock_.Now()), 30 * kUsd});
  ASSERT_TRUE(engine_.ApplyFullSnapshot(snapshot, {}).ok());
  EXPECT_EQ(engine_.Stats().counters, 2u) << "the team's and the org's daily counters only";
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 20 * kUsd);
}

TEST_F(BoundedCountersTest, ReservationsOnUnwatchedKeysHoldOnlyWatchedCounters) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  for (int i = 0; i < 100; ++i) {
    MustCheck(ReserveReq(kUsd, absl::StrCat("step-", i), TenantTags(i)));
  }
  EXPECT_EQ(engine_.Stats().open_reservations, 100u);
  EXPECT_EQ(engine_.Stats().counters, 4u) << "team and org, 2 periods each";
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").reserved, 100 * kUsd);
}

TEST_F(BoundedCountersTest, TheLastCapOnAKeyTakesItsCountersAlong) {
  Put(MakeCap("daily", Scope::kTenant, 100 * kUsd, Period::kDaily));
  Put(MakeCap("monthly", Scope::kTenant, 100 * kUsd, Period::kMonthly));
  Spend(5 * kUsd);
  EXPECT_EQ(engine_.Stats().counters, 4u) << "the tenant's and the org's";
  ASSERT_TRUE(engine_.DeleteCap("daily").ok());
  EXPECT_EQ(engine_.Stats().counters, 4u) << "a cap still watches the key";
  ASSERT_TRUE(engine_.DeleteCap("monthly").ok());
  EXPECT_EQ(engine_.Stats().counters, 2u) << "the org's only";

  // A cap moved to another key leaves its old key unwatched too.
  Put(MakeCap("moving", Scope::kTenant, 100 * kUsd));
  Spend(5 * kUsd);
  EXPECT_EQ(engine_.Stats().counters, 4u);
  Cap moved = MakeCap("moving", Scope::kTenant, 100 * kUsd);
  moved.key = "globex";
  Put(moved);
  EXPECT_EQ(engine_.Stats().counters, 2u);
}

TEST_F(BoundedCountersTest, ACounterHeldByAReservationOutlivesItsCapUntilReleased) {
  Put(MakeCap("tenant", Scope::kTenant, 100 * kUsd));
  MustCheck(ReserveReq(kUsd, "step-1"));
  ASSERT_TRUE(engine_.DeleteCap("tenant").ok());
  EXPECT_EQ(engine_.Stats().counters, 4u) << "held: the reservation points at them";
  // Settling releases the hold (through the counter still alive), then pruning drops them.
  EXPECT_EQ(Spend(kUsd, "step-1"), SpendOutcome::kCountedAndSettled);
  EXPECT_EQ(engine_.PruneClosedPeriods(clock_.Now() + absl::Hours(24 * 40)), 4);
}

}  // namespace
}  // namespace stepledger::domain::budget
