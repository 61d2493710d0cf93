// BudgetClient against an in-process Budget service on 127.0.0.1 port 0: codes are kept, and
// an unreachable service gives the caller's explicit fail-open / fail-closed answer, never an
// ALLOW that looks checked.
#include "client/lib/budget_client.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

// Answers checks for feature "ok" with ALERT, refuses anything else with INVALID_ARGUMENT;
// Delete of an unknown cap is NOT_FOUND.
class FakeBudget final : public v1::Budget::Service {
 public:
  grpc::Status CheckBudget(grpc::ServerContext*, const v1::CheckBudgetRequest* request,
                           v1::CheckBudgetResponse* response) override {
    if (request->tags().feature() != "ok") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "tags.feature: required");
    }
    response->set_decision(v1::DECISION_ALERT);
    response->set_deciding_cap_id("feature-ok-daily");
    return grpc::Status::OK;
  }
  grpc::Status PutBudget(grpc::ServerContext*, const v1::PutBudgetRequest* request,
                         v1::Cap* response) override {
    *response = request->cap();
    response->set_alert_threshold_bps(8000);
    return grpc::Status::OK;
  }
  grpc::Status DeleteBudget(grpc::ServerContext*, const v1::DeleteBudgetRequest* request,
                            v1::DeleteBudgetResponse*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "cap_id: no cap \"" + request->cap_id() + "\"");
  }
};

class BudgetClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                               grpc::InsecureChannelCredentials());
  }
  // A port nothing listens on: the server's, after it is shut down.
  std::shared_ptr<grpc::Channel> DeadChannel() {
    server_->Shutdown();
    server_->Wait();
    return Channel();
  }

  FakeBudget service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

v1::CheckBudgetRequest CheckFor(const std::string& feature) {
  v1::CheckBudgetRequest request;
  request.mutable_tags()->set_feature(feature);
  request.set_estimated_cost_nano_usd(500'000'000);
  return request;
}

TEST_F(BudgetClientTest, ReturnsTheServicesDecisionAsChecked) {
  BudgetClient client(Channel());
  absl::StatusOr<CheckOutcome> outcome = client.Check(CheckFor("ok"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_TRUE(outcome->checked);
  EXPECT_EQ(outcome->decision(), v1::DECISION_ALERT);
  EXPECT_EQ(outcome->response.deciding_cap_id(), "feature-ok-daily");
}

TEST_F(BudgetClientTest, ARefusedCheckIsAnErrorWithItsCodeEvenWhenFailingOpen) {
  BudgetClient client(Channel(), {.on_unavailable = OnUnavailable::kFailOpen});
  absl::StatusOr<CheckOutcome> outcome = client.Check(CheckFor(""));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outcome.status().message(), "tags.feature: required");
}

TEST_F(BudgetClientTest, UnreachableServiceFailsClosedByDefault) {
  BudgetClient client(DeadChannel());
  absl::StatusOr<CheckOutcome> outcome = client.Check(CheckFor("ok"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_FALSE(outcome->checked);
  EXPECT_EQ(outcome->decision(), v1::DECISION_REQUIRE_ACK);
  EXPECT_EQ(outcome->unchecked_reason.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(outcome->response.caps().empty());
}

TEST_F(BudgetClientTest, UnreachableServiceFailsOpenOnlyWhenAskedAndSaysItWasNotChecked) {
  BudgetClient client(DeadChannel(), {.on_unavailable = OnUnavailable::kFailOpen});
  absl::StatusOr<CheckOutcome> outcome = client.Check(CheckFor("ok"));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_FALSE(outcome->checked);
  EXPECT_EQ(outcome->decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(outcome->unchecked_reason.code(), absl::StatusCode::kUnavailable);
}

TEST_F(BudgetClientTest, AdministrativeCallsKeepTheGrpcCode) {
  BudgetClient client(Channel());
  v1::Cap cap;
  cap.set_id("team-x");
  absl::StatusOr<v1::Cap> stored = client.Put(cap, "me");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->alert_threshold_bps(), 8000);
  absl::Status deleted = client.Delete("nope", "me").status();
  EXPECT_EQ(deleted.code(), absl::StatusCode::kNotFound);
  // Unimplemented in the fake: the code comes through as is.
  EXPECT_EQ(client.List().status().code(), absl::StatusCode::kUnimplemented);
}

TEST_F(BudgetClientTest, AdministrativeCallsToADeadServiceAreUnavailableNotDecisions) {
  BudgetClient client(DeadChannel(), {.on_unavailable = OnUnavailable::kFailOpen});
  EXPECT_EQ(client.List().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(client.ListAcknowledgements().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace stepledger::client
