// Reservations: holding, settling (once), expiry, and parallel branches of one agent.
#include <latch>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/domain/budget/engine.h"
#include "tests/unit/budget/engine_fixture.h"

namespace stepledger::domain::budget {
namespace {

using testing::EngineTest;
using testing::kUsd;
using testing::MakeCap;
using testing::Req;
using testing::ReserveReq;

using ReservationTest = EngineTest;

TEST_F(ReservationTest, ReservedEstimateCountsAgainstLaterChecks) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CheckResult first = MustCheck(ReserveReq(60 * kUsd, "step-1"));
  EXPECT_EQ(first.decision, Decision::kAllow);
  EXPECT_FALSE(first.reservation_id.empty());
  EXPECT_EQ(StatusOf(first, "team").reserved, 0);  // Its own hold is not in its own view.

  const CheckResult second = MustCheck(Req(30 * kUsd));
  EXPECT_EQ(StatusOf(second, "team").reserved, 60 * kUsd);
  EXPECT_EQ(second.decision, Decision::kAlert);  // 60 + 30 = 90%.
  EXPECT_TRUE(second.reservation_id.empty());
  EXPECT_EQ(DecisionFor(41 * kUsd), Decision::kRequireAck);
}

TEST_F(ReservationTest, SettleReleasesTheHoldAndCountsTheActualCostOnce) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  MustCheck(ReserveReq(60 * kUsd, "step-1"));
  EXPECT_EQ(Spend(40 * kUsd, "step-1"), SpendOutcome::kCountedAndSettled);
  const CapStatus s = StatusOf(MustCheck(Req(0)), "team");
  EXPECT_EQ(s.reserved, 0);
  EXPECT_EQ(s.spent, 40 * kUsd);
  EXPECT_EQ(engine_.Stats().reservations_settled, 1);
  EXPECT_EQ(engine_.Stats().open_reservations, 0u);
}

TEST_F(ReservationTest, SecondSettleIsANoOp) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  MustCheck(ReserveReq(60 * kUsd, "step-1"));
  EXPECT_EQ(Spend(40 * kUsd, "step-1"), SpendOutcome::kCountedAndSettled);
  EXPECT_EQ(Spend(40 * kUsd, "step-1"), SpendOutcome::kDuplicateSettle);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 40 * kUsd);
  EXPECT_EQ(engine_.Stats().duplicate_settles, 1);
  // Reserving again for a step that already committed is a client bug, not a new hold.
  EXPECT_EQ(engine_.Check(ReserveReq(kUsd, "step-1")).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(ReservationTest, UnsettledReservationExpiresAfterItsTtlAndIsCounted) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  MustCheck(ReserveReq(60 * kUsd, "step-1"));
  EXPECT_EQ(engine_.ExpireReservations(clock_.Now() + absl::Minutes(10) - absl::Seconds(1)), 0);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").reserved, 60 * kUsd);
  EXPECT_EQ(engine_.ExpireReservations(clock_.Now() + kDefaultReservationTtl), 1);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").reserved, 0);
  EXPECT_EQ(engine_.Stats().reservations_expired, 1);
  // The step commits late: its cost is charged as plain spend.
  EXPECT_EQ(Spend(50 * kUsd, "step-1"), SpendOutcome::kCounted);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").spent, 50 * kUsd);
}

TEST_F(ReservationTest, RetriedCheckReplacesItsHoldInsteadOfAddingOne) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CheckResult a = MustCheck(ReserveReq(60 * kUsd, "step-1"));
  const CheckResult b = MustCheck(ReserveReq(70 * kUsd, "step-1"));
  EXPECT_EQ(b.decision, Decision::kAllow);  // Judged without its own earlier 60.
  EXPECT_NE(a.reservation_id, b.reservation_id);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").reserved, 70 * kUsd);
  EXPECT_EQ(engine_.Stats().open_reservations, 1u);
}

TEST_F(ReservationTest, RequireAckMakesNoReservation) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  const CheckResult r = MustCheck(ReserveReq(101 * kUsd, "step-1"));
  EXPECT_EQ(r.decision, Decision::kRequireAck);
  EXPECT_TRUE(r.reservation_id.empty());
  EXPECT_EQ(engine_.Stats().open_reservations, 0u);
}

TEST_F(ReservationTest, ReservationIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.insert(MustCheck(ReserveReq(1, absl::StrCat("step-", i))).reservation_id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(ids.count(""), 0u);
}

TEST_F(ReservationTest, FiftyParallelBranchesCannotAllSlipUnderTheCap) {
  Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
  constexpr int kBranches = 50;
  std::latch start(kBranches);
  absl::Mutex mu;
  int admitted = 0, asked_for_ack = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kBranches; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto r = engine_.Check(ReserveReq(5 * kUsd, absl::StrCat("branch-", i)));
      ASSERT_TRUE(r.ok());
      absl::MutexLock lock(&mu);
      (r->decision == Decision::kRequireAck ? asked_for_ack : admitted)++;
    });
  }
  for (std::thread& t : threads) t.join();
  // 20 x 5 USD is exactly the limit, which is still within the cap.
  EXPECT_EQ(admitted, 20);
  EXPECT_EQ(asked_for_ack, 30);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").reserved, 100 * kUsd);
}

}  // namespace
}  // namespace stepledger::domain::budget
