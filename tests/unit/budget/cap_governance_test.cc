// CapGovernance over in-memory stores: a loosening change waits for a second credential and
// does not change what the engine enforces; a safe change applies at once and awaits sign-off;
// self-approval, stale and expired proposals are refused.
#include "server/domain/budget/cap_governance.h"

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/fakes/memory_cap_change_store.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using testing::kUsd;

const Actor kAlice{"key:alice/1", "typed by alice"};
const Actor kBob{"key:bob/2", ""};

absl::Status AllowAll(const Cap&) { return absl::OkStatus(); }

class CapGovernanceTest : public ::testing::Test {
 protected:
  CapGovernanceTest() { EXPECT_TRUE(coordinator_.Start().ok()); }

  Cap TeamCap(NanoUsd limit) { return testing::MakeCap("team", Scope::kTeam, limit); }
  Decision CheckAt(NanoUsd estimate) {
    absl::StatusOr<CheckResult> r = coordinator_.Check(testing::Req(estimate));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->decision : Decision::kAllow;
  }

  stepledger::testing::FakeClock clock_{testing::Utc(2026, 12, 6, 10)};
  BudgetEngine engine_{clock_};
  stepledger::testing::MemoryBudgetRepository repo_;
  stepledger::testing::MemoryCapChangeStore store_{&repo_};
  BudgetCoordinator coordinator_{engine_, repo_, clock_, nullptr};
  CapGovernance governance_{coordinator_, store_, clock_};
};

TEST_F(CapGovernanceTest, ANewCapIsEnforcedAtOnceAndAwaitsSignOffWhateverWasTyped) {
  absl::StatusOr<CapChangeOutcome> put = governance_.Put(TeamCap(10 * kUsd), kAlice, AllowAll);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(put->in_force.has_value());
  EXPECT_FALSE(put->proposal.has_value());
  EXPECT_EQ(put->in_force->signed_off_by, "") << "a typed signed_off_by never signs off";
  EXPECT_EQ(put->in_force->changed_by, kAlice.identity);
  EXPECT_EQ(CheckAt(20 * kUsd), Decision::kRequireAck);

  // Alice cannot sign off her own revision; Bob can.
  absl::StatusOr<CapChangeOutcome> self = governance_.Approve({"team", 0, 1, ""}, kAlice, AllowAll);
  EXPECT_EQ(self.status().code(), absl::StatusCode::kPermissionDenied) << self.status();
  EXPECT_NE(self.status().message().find("second credential"), std::string::npos);
  absl::StatusOr<CapChangeOutcome> bob = governance_.Approve({"team", 0, 1, "ok"}, kBob, AllowAll);
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(bob->in_force->signed_off_by, kBob.identity);
  EXPECT_EQ(engine_.GetCap("team")->signed_off_by, kBob.identity);
  // Signed off already: a second sign-off is refused, naming it.
  EXPECT_EQ(governance_.Approve({"team", 0, 0, ""}, kBob, AllowAll).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CapGovernanceTest, ALooseningWaitsForASecondCredentialAndThenAppliesSignedOff) {
  ASSERT_TRUE(governance_.Put(TeamCap(10 * kUsd), kAlice, AllowAll).ok());
  ASSERT_EQ(CheckAt(20 * kUsd), Decision::kRequireAck);

  absl::StatusOr<CapChangeOutcome> raise = governance_.Put(TeamCap(100 * kUsd), kAlice, AllowAll);
  ASSERT_TRUE(raise.ok()) << raise.status();
  ASSERT_TRUE(raise->proposal.has_value());
  EXPECT_EQ(raise->in_force->limit_nano_usd, 10 * kUsd) << "the cap in force is unchanged";
  EXPECT_EQ(CheckAt(20 * kUsd), Decision::kRequireAck) << "a proposal enforces nothing";
  EXPECT_EQ(engine_.GetCap("team")->limit_nano_usd, 10 * kUsd);
  const int64_t id = raise->proposal->id;
  EXPECT_NE(raise->proposal->changes.find("limit_nano_usd"), std::string::npos);

  EXPECT_EQ(governance_.Approve({"team", id, 0, ""}, kAlice, AllowAll).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckAt(20 * kUsd), Decision::kRequireAck);
  absl::StatusOr<CapChangeOutcome> approved =
      governance_.Approve({"team", id, 0, "budget line raised"}, kBob, AllowAll);
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ(approved->in_force->limit_nano_usd, 100 * kUsd);
  EXPECT_EQ(approved->in_force->signed_off_by, kBob.identity);
  EXPECT_EQ(approved->in_force->changed_by, kAlice.identity);
  EXPECT_EQ(CheckAt(20 * kUsd), Decision::kAllow);
  ASSERT_FALSE(store_.audit.empty());
  EXPECT_EQ(store_.audit.back(), "update key:alice/1 (note: typed by alice) approved by key:bob/2");
  // Applied once: approving it again is refused.
  EXPECT_EQ(governance_.Approve({"team", id, 0, ""}, kBob, AllowAll).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CapGovernanceTest, ALaterChangeSupersedesAProposalAndExpiryEndsOne) {
  ASSERT_TRUE(governance_.Put(TeamCap(10 * kUsd), kAlice, AllowAll).ok());
  absl::StatusOr<CapChangeOutcome> raise = governance_.Put(TeamCap(100 * kUsd), kAlice, AllowAll);
  ASSERT_TRUE(raise.ok() && raise->proposal.has_value());
  // A tightening takes effect at once and supersedes the open proposal.
  absl::StatusOr<CapChangeOutcome> lower = governance_.Put(TeamCap(5 * kUsd), kAlice, AllowAll);
  ASSERT_TRUE(lower.ok());
  EXPECT_FALSE(lower->proposal.has_value());
  EXPECT_EQ(engine_.GetCap("team")->limit_nano_usd, 5 * kUsd);
  absl::Status stale =
      governance_.Approve({"team", raise->proposal->id, 0, ""}, kBob, AllowAll).status();
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.message().find(absl::StrCat("proposal ", raise->proposal->id)), std::string::npos)
      << stale;
  EXPECT_EQ(engine_.GetCap("team")->limit_nano_usd, 5 * kUsd);

  absl::StatusOr<CapChangeOutcome> again = governance_.Put(TeamCap(50 * kUsd), kAlice, AllowAll);
  ASSERT_TRUE(again.ok() && again->proposal.has_value());
  clock_.Advance(kProposalLifetime + absl::Seconds(1));
  absl::Status expired =
      governance_.Approve({"team", again->proposal->id, 0, ""}, kBob, AllowAll).status();
  EXPECT_EQ(expired.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(expired.message().find("expired"), std::string::npos) << expired;
  EXPECT_TRUE(governance_.OpenProposals("").value().empty()) << "expired: not listed";
}

TEST_F(CapGovernanceTest, DeletingAnEnforcedCapIsAProposalAndAShadowCapGoesAtOnce) {
  ASSERT_TRUE(governance_.Put(TeamCap(10 * kUsd), kAlice, AllowAll).ok());
  absl::StatusOr<CapChangeOutcome> del = governance_.Delete("team", kAlice, AllowAll);
  ASSERT_TRUE(del.ok() && del->proposal.has_value());
  EXPECT_TRUE(engine_.GetCap("team").has_value()) << "still enforced";
  ASSERT_TRUE(governance_.Approve({"team", del->proposal->id, 0, ""}, kBob, AllowAll).ok());
  EXPECT_FALSE(engine_.GetCap("team").has_value());

  Cap shadow = TeamCap(kUsd);
  shadow.shadow = true;
  ASSERT_TRUE(governance_.Put(shadow, kAlice, AllowAll).ok());
  absl::StatusOr<CapChangeOutcome> gone = governance_.Delete("team", kAlice, AllowAll);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->proposal.has_value());
  EXPECT_FALSE(engine_.GetCap("team").has_value());
  EXPECT_EQ(governance_.Delete("team", kAlice, AllowAll).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CapGovernanceTest, TheApproverNeedsScopesCoveringTheCap) {
  ASSERT_TRUE(governance_.Put(TeamCap(10 * kUsd), kAlice, AllowAll).ok());
  const CapAccess deny = [](const Cap& cap) {
    return absl::PermissionDeniedError(absl::StrCat("cap ", cap.id, " is not yours"));
  };
  EXPECT_EQ(governance_.Approve({"team", 0, 0, ""}, kBob, deny).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(engine_.GetCap("team")->signed_off_by, "");
}

}  // namespace
}  // namespace stepledger::domain::budget
