// The cap sign-off flow end to end (docs/BUDGETS.md, "Sign-off"): a real collector and
// PostgreSQL, two keys made through the Keys service. A loosening put by key 1 leaves the
// check's answer as it was; key 1 cannot approve its own change; key 2's approval changes the
// answer at once; the audit rows name both credentials; a tightening applies at once and
// awaits sign-off.
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/test_keys.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::TestDatabase;
using testing::TestKey;

constexpr int64_t kUsd = 1'000'000'000;
constexpr char kCapId[] = "team-ledger-daily";

v1::Cap TeamCap(int64_t limit) {
  v1::Cap cap;
  cap.set_id(kCapId);
  cap.set_scope(v1::SCOPE_TEAM);
  cap.set_key("ledger");
  cap.set_period(v1::PERIOD_DAILY);
  cap.set_limit_nano_usd(limit);
  cap.set_owner("ledger-lead");
  cap.set_signed_off_by("cfo (typed: not a sign-off)");
  return cap;
}

class BudgetSignOffE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    collector_ = std::make_unique<CollectorProcess>(
        db_.url(), std::vector<std::string>{"--key-refresh-interval=200ms"});
    ASSERT_TRUE(collector_->Start()) << collector_->Log();
    one_ = testing::CreateTestKey(collector_->target(), "lead-one", {"budget-admin", "check"}, "*");
    two_ =
        testing::CreateTestKey(collector_->target(), "lead-two", {"budget-admin"}, "team:ledger");
    ASSERT_FALSE(one_.token.empty());
    ASSERT_FALSE(two_.token.empty());
  }

  static grpc::Status Put(const TestKey& key, const v1::Cap& cap, v1::Cap* out) {
    v1::PutBudgetRequest req;
    *req.mutable_cap() = cap;
    req.set_changed_by("runbook step 4");
    grpc::ClientContext ctx;
    return v1::Budget::NewStub(key.channel)->PutBudget(&ctx, req, out);
  }
  static grpc::Status Approve(const TestKey& key, int64_t proposal,
                              v1::ApproveBudgetResponse* out) {
    v1::ApproveBudgetRequest req;
    req.set_cap_id(kCapId);
    req.set_proposal_id(proposal);
    req.set_reason("budget line raised");
    grpc::ClientContext ctx;
    return v1::Budget::NewStub(key.channel)->ApproveBudget(&ctx, req, out);
  }
  v1::Decision Check(int64_t estimate) {
    v1::CheckBudgetRequest req;
    v1::Tags* t = req.mutable_tags();
    t->set_feature("reconcile");
    t->set_team("ledger");
    t->set_tenant("acme");
    t->set_workload_class(v1::WORKLOAD_CLASS_BATCH);
    t->set_environment(v1::ENVIRONMENT_PRODUCTION);
    t->set_parent_run_id("run-sign-off");
    req.set_estimated_cost_nano_usd(estimate);
    v1::CheckBudgetResponse resp;
    grpc::ClientContext ctx;
    const grpc::Status s = v1::Budget::NewStub(one_.channel)->CheckBudget(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.decision();
  }

  TestDatabase db_;
  std::unique_ptr<CollectorProcess> collector_;
  TestKey one_, two_;
};

TEST_F(BudgetSignOffE2eTest, ALooseningNeedsASecondKeyAndATighteningAppliesAtOnce) {
  v1::Cap stored;
  ASSERT_TRUE(Put(one_, TeamCap(10 * kUsd), &stored).ok());
  EXPECT_EQ(stored.signed_off_by(), "") << "a typed name never signs a cap off";
  EXPECT_EQ(stored.proposal_id(), 0) << "a new cap is safe: in force at once";
  EXPECT_EQ(Check(20 * kUsd), v1::DECISION_REQUIRE_ACK);

  // Key 1 raises the limit: a proposal; the answer does not change.
  v1::Cap proposed;
  ASSERT_TRUE(Put(one_, TeamCap(100 * kUsd), &proposed).ok());
  ASSERT_NE(proposed.proposal_id(), 0);
  EXPECT_EQ(Check(20 * kUsd), v1::DECISION_REQUIRE_ACK) << "a proposal enforces nothing";

  // Key 1 may not approve its own change.
  v1::ApproveBudgetResponse approved;
  const grpc::Status self = Approve(one_, proposed.proposal_id(), &approved);
  EXPECT_EQ(self.error_code(), grpc::StatusCode::PERMISSION_DENIED) << self.error_message();
  EXPECT_NE(self.error_message().find("second credential"), std::string::npos)
      << self.error_message();
  EXPECT_EQ(Check(20 * kUsd), v1::DECISION_REQUIRE_ACK);

  // Key 2 approves: the new limit is in force at once, signed off by key 2.
  const grpc::Status ok = Approve(two_, proposed.proposal_id(), &approved);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(approved.cap().limit_nano_usd(), 100 * kUsd);
  EXPECT_EQ(approved.cap().signed_off_by(), two_.identity);
  EXPECT_EQ(Check(20 * kUsd), v1::DECISION_ALLOW);
  EXPECT_EQ(db_.Count(absl::StrCat("SELECT count(*) FROM budget_audit WHERE cap_id = '", kCapId,
                                   "' AND action = 'update' AND changed_by LIKE '", one_.identity,
                                   "%' AND approved_by = '", two_.identity,
                                   "' AND proposal_id = ", proposed.proposal_id())),
            1)
      << "one audit row names the proposer and the approver";
  EXPECT_EQ(Approve(two_, proposed.proposal_id(), &approved).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION)
      << "a proposal applies once";

  // A tightening by key 1 applies at once and awaits sign-off.
  v1::Cap lowered;
  ASSERT_TRUE(Put(one_, TeamCap(5 * kUsd), &lowered).ok());
  EXPECT_EQ(lowered.proposal_id(), 0);
  EXPECT_EQ(lowered.signed_off_by(), "");
  EXPECT_EQ(Check(10 * kUsd), v1::DECISION_REQUIRE_ACK);
  v1::ListBudgetProposalsResponse pending;
  grpc::ClientContext ctx;
  ASSERT_TRUE(v1::Budget::NewStub(two_.channel)
                  ->ListBudgetProposals(&ctx, v1::ListBudgetProposalsRequest(), &pending)
                  .ok());
  ASSERT_EQ(pending.awaiting_sign_off_size(), 1);
  EXPECT_EQ(pending.awaiting_sign_off(0).changed_by(), one_.identity);
  ASSERT_TRUE(testing::ApproveAllAs(two_, kCapId).ok());
  EXPECT_EQ(db_.Count(absl::StrCat("SELECT count(*) FROM budgets WHERE id = '", kCapId,
                                   "' AND signed_off_by = '", two_.identity, "'")),
            1);
}

}  // namespace
}  // namespace stepledger
