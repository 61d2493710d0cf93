// Acknowledgements: turning REQUIRE_ACK into ALLOW/ALERT, headroom consumption, expiry, audit.
// They are made through BudgetCoordinator::Acknowledge, as BudgetService makes them.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/engine.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/unit/budget/engine_fixture.h"

namespace stepledger::domain::budget {
namespace {

using testing::EngineTest;
using testing::kUsd;
using testing::MakeCap;
using testing::Req;
using ::testing::StartsWith;

class AcknowledgementTest : public EngineTest {
 protected:
  void SetUp() override {
    Put(MakeCap("team", Scope::kTeam, 100 * kUsd));
    Spend(100 * kUsd);  // At the limit, not past it.
  }
  absl::StatusOr<Acknowledgement> Acknowledge(const std::string& cap_id,
                                              const std::string& principal,
                                              const std::string& reason, NanoUsd headroom,
                                              absl::Time expires_at) {
    return coordinator_.Acknowledge(cap_id, principal, reason, headroom, expires_at);
  }
  Acknowledgement Ack(NanoUsd headroom, absl::Duration ttl = absl::Hours(4)) {
    auto ack = Acknowledge("team", "lead@example.com", "launch day", headroom, clock_.Now() + ttl);
    EXPECT_TRUE(ack.ok()) << ack.status();
    return ack.value_or(Acknowledgement{});
  }

  stepledger::testing::MemoryBudgetRepository repo_;
  BudgetCoordinator coordinator_{engine_, repo_, clock_, /*observer=*/nullptr};
};

TEST_F(AcknowledgementTest, AckWithAmpleHeadroomTurnsRequireAckIntoAllow) {
  EXPECT_EQ(DecisionFor(10 * kUsd), Decision::kRequireAck);
  Ack(1'000 * kUsd);
  // 110 against an acknowledged ceiling of 1100: below 80% of it.
  const CheckResult r = MustCheck(Req(10 * kUsd));
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(StatusOf(r, "team").acknowledged_headroom, 1'000 * kUsd);
  EXPECT_EQ(StatusOf(r, "team").remaining, 1'000 * kUsd);
}

TEST_F(AcknowledgementTest, AckNearlyUsedUpTurnsRequireAckIntoAlert) {
  Ack(20 * kUsd);
  EXPECT_EQ(DecisionFor(10 * kUsd), Decision::kAlert);  // 110 >= 80% of 120.
  EXPECT_EQ(DecisionFor(20 * kUsd), Decision::kAlert);  // Exactly all the headroom.
  EXPECT_EQ(DecisionFor(20 * kUsd + 1), Decision::kRequireAck);
}

TEST_F(AcknowledgementTest, SpendPastTheLimitConsumesHeadroom) {
  Ack(50 * kUsd);
  Spend(30 * kUsd);  // 130: 30 of the 50 consumed.
  const CheckResult r = MustCheck(Req(20 * kUsd));
  EXPECT_EQ(StatusOf(r, "team").acknowledged_headroom, 20 * kUsd);
  EXPECT_EQ(r.decision, Decision::kAlert);
  EXPECT_EQ(DecisionFor(20 * kUsd + 1), Decision::kRequireAck);
  const std::vector<Acknowledgement> trail = engine_.ListAcknowledgements("team");
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].consumed, 30 * kUsd);
}

TEST_F(AcknowledgementTest, HeadroomUsedUpRequiresANewAcknowledgement) {
  Ack(50 * kUsd);
  Spend(50 * kUsd);
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").acknowledged_headroom, 0);
  EXPECT_EQ(DecisionFor(kUsd), Decision::kRequireAck);
  Ack(10 * kUsd);
  EXPECT_EQ(DecisionFor(kUsd), Decision::kAlert);
}

TEST_F(AcknowledgementTest, ExpiredAckNoLongerCountsButStaysInTheAuditTrail) {
  const Acknowledgement ack = Ack(1'000 * kUsd, absl::Hours(1));
  EXPECT_EQ(DecisionFor(10 * kUsd), Decision::kAllow);
  clock_.Advance(absl::Hours(1));
  const CheckResult r = MustCheck(Req(10 * kUsd));
  EXPECT_EQ(r.decision, Decision::kRequireAck);
  EXPECT_EQ(StatusOf(r, "team").acknowledged_headroom, 0);
  const std::vector<Acknowledgement> trail = engine_.ListAcknowledgements("team");
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].id, ack.id);
}

TEST_F(AcknowledgementTest, RecordCarriesWhoWhyWhenAndAUniqueId) {
  const Acknowledgement a = Ack(kUsd);
  const Acknowledgement b = Ack(kUsd);
  EXPECT_FALSE(a.id.empty());
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.cap_id, "team");
  EXPECT_EQ(a.principal, "lead@example.com");
  EXPECT_EQ(a.reason, "launch day");
  EXPECT_EQ(a.created_at, clock_.Now());
  EXPECT_EQ(a.expires_at, clock_.Now() + absl::Hours(4));
  EXPECT_EQ(engine_.Stats().acknowledgements, 2u);
  EXPECT_EQ(engine_.ListAcknowledgements("").size(), 2u);  // Empty cap id: every cap's.
}

TEST_F(AcknowledgementTest, InvalidAcknowledgementsAreRejectedNamingTheField) {
  const absl::Time later = clock_.Now() + absl::Hours(1);
  EXPECT_EQ(Acknowledge("nope", "p", "r", kUsd, later).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(Acknowledge("team", "", "r", kUsd, later).status().message()),
              StartsWith("principal"));
  EXPECT_THAT(std::string(Acknowledge("team", "p", "", kUsd, later).status().message()),
              StartsWith("reason"));
  EXPECT_THAT(std::string(Acknowledge("team", "p", "r", 0, later).status().message()),
              StartsWith("extra_headroom"));
  EXPECT_THAT(std::string(Acknowledge("team", "p", "r", kUsd, clock_.Now()).status().message()),
              StartsWith("expires_at"));
}

TEST_F(AcknowledgementTest, LoadedAcknowledgementKeepsItsConsumption) {
  Acknowledgement loaded;
  loaded.id = "ack-from-db";
  loaded.cap_id = "team";
  loaded.principal = "lead@example.com";
  loaded.reason = "restart";
  loaded.extra_headroom = 50 * kUsd;
  loaded.consumed = 45 * kUsd;
  loaded.created_at = clock_.Now() - absl::Hours(1);
  loaded.expires_at = clock_.Now() + absl::Hours(1);
  ASSERT_TRUE(engine_.LoadAcknowledgement(loaded).ok());
  EXPECT_EQ(StatusOf(MustCheck(Req(0)), "team").acknowledged_headroom, 5 * kUsd);
  EXPECT_EQ(DecisionFor(6 * kUsd), Decision::kRequireAck);
  loaded.consumed = 60 * kUsd;
  EXPECT_EQ(engine_.LoadAcknowledgement(loaded).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AcknowledgementTest, AlertOnlyCapIsNotChangedByAcknowledgement) {
  Cap feature = MakeCap("feature", Scope::kFeature, 100 * kUsd);
  Put(feature);
  Spend(100 * kUsd);  // The feature's counter starts with its cap (storage has earlier spend).
  ASSERT_TRUE(Acknowledge("feature", "p", "r", kUsd, clock_.Now() + absl::Hours(1)).ok());
  const CheckResult r = MustCheck(Req(10 * kUsd));
  EXPECT_EQ(StatusOf(r, "feature").decision, Decision::kAlert);
  EXPECT_EQ(StatusOf(r, "feature").remaining, 0);  // Spent 100 of 100; the ack adds nothing.
}

}  // namespace
}  // namespace stepledger::domain::budget
