// Budget.CheckBudget end to end in one process: the real BudgetService (its raw CheckBudget:
// request parsed on a stack arena, response bytes written by CheckResponseEncoder) and
// BudgetCoordinator over an in-memory repository, on a gRPC server bound to 127.0.0.1 port 0;
// asked through BudgetClient, `stepledger budget check` and raw bytes.
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/cli/budget_command.h"
#include "client/lib/budget_client.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/transport/budget_service.h"
#include "server/transport/work_pool.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/fakes/memory_cap_change_store.h"
#include "tests/fakes/no_auth.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger {
namespace {

using domain::budget::Cap;
using domain::budget::Period;
using domain::budget::Scope;
using domain::budget::testing::kUsd;
using domain::budget::testing::MakeCap;
using domain::budget::testing::ProdTags;
using domain::budget::testing::Utc;
using ::testing::HasSubstr;

class CheckBudgetServiceTest : public ::testing::Test {
 protected:
  CheckBudgetServiceTest() {
    EXPECT_TRUE(coordinator_.Start().ok());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~CheckBudgetServiceTest() override { server_->Shutdown(); }

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

  client::BudgetClient Client() {
    return client::BudgetClient(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  }

  void PutCaps() {
    client::BudgetClient budget = Client();
    for (Cap cap : {MakeCap("f-triage", Scope::kFeature, 10 * kUsd),
                    MakeCap("t-search", Scope::kTeam, 100 * kUsd, Period::kMonthly),
                    MakeCap("x-acme", Scope::kTenant, 20 * kUsd, Period::kMonthly),
                    MakeCap("org", Scope::kOrg, 1000 * kUsd)}) {
      v1::Cap proto;
      proto.set_id(cap.id);
      proto.set_scope(static_cast<v1::Scope>(cap.scope));
      proto.set_key(cap.key);
      proto.set_period(cap.period == Period::kDaily ? v1::PERIOD_DAILY : v1::PERIOD_MONTHLY);
      proto.set_limit_nano_usd(cap.limit_nano_usd);
      proto.set_owner(cap.owner);
      proto.set_signed_off_by(cap.signed_off_by);
      ASSERT_TRUE(budget.Put(proto, "test").ok()) << cap.id;
    }
  }

  static v1::CheckBudgetRequest Request(int64_t estimate) {
    v1::CheckBudgetRequest r;
    v1::Tags* t = r.mutable_tags();
    t->set_feature("inbox-triage");
    t->set_team("search");
    t->set_tenant("acme");
    t->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
    t->set_environment(v1::ENVIRONMENT_PRODUCTION);
    t->set_parent_run_id("run-1");
    r.set_estimated_cost_nano_usd(estimate);
    return r;
  }

  stepledger::testing::FakeClock clock_{Utc(2024, 3, 14, 12)};
  domain::budget::BudgetEngine engine_{clock_};
  stepledger::testing::MemoryBudgetRepository repository_;
  domain::budget::BudgetCoordinator coordinator_{engine_, repository_, clock_, nullptr};
  transport::WorkPool pool_{1, 16};
  stepledger::testing::MemoryCapChangeStore changes_{&repository_};
  domain::budget::CapGovernance governance_{coordinator_, changes_, clock_};
  transport::BudgetService service_{coordinator_, stepledger::testing::NoAuth(), pool_,
                                    &governance_};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(CheckBudgetServiceTest, AnswerCarriesEveryMatchingCapsFullStatus) {
  PutCaps();
  ASSERT_TRUE(engine_.RecordSpend(ProdTags(), 17 * kUsd, clock_.Now(), "").ok());

  absl::StatusOr<client::CheckOutcome> outcome = Client().Check(Request(2 * kUsd));
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  const v1::CheckBudgetResponse& r = outcome->response;
  // 17 + 2 of the tenant's 20: past its 80% threshold, within the limit. The feature cap (19
  // of 10, alert-only) alerts too; between equal decisions the tenant tier is named first.
  EXPECT_EQ(r.decision(), v1::DECISION_ALERT);
  EXPECT_EQ(r.deciding_scope(), v1::SCOPE_TENANT);
  EXPECT_EQ(r.deciding_cap_id(), "x-acme");
  ASSERT_EQ(r.caps_size(), 4);
  std::map<std::string, v1::CapStatus> by_id;
  for (const v1::CapStatus& s : r.caps()) by_id[s.cap_id()] = s;
  const v1::CapStatus& tenant = by_id.at("x-acme");
  EXPECT_EQ(tenant.scope(), v1::SCOPE_TENANT);
  EXPECT_EQ(tenant.key(), "acme");
  EXPECT_EQ(tenant.period(), v1::PERIOD_MONTHLY);
  EXPECT_EQ(tenant.limit_nano_usd(), 20 * kUsd);
  EXPECT_EQ(tenant.owner(), "lead@example.com");
  EXPECT_EQ(tenant.spent_nano_usd(), 17 * kUsd);
  EXPECT_EQ(tenant.reserved_nano_usd(), 0);
  EXPECT_EQ(tenant.acknowledged_headroom_nano_usd(), 0);
  EXPECT_EQ(tenant.remaining_nano_usd(), 3 * kUsd);
  EXPECT_EQ(tenant.burn_rate_nano_usd_per_hour(), 17 * kUsd);
  // 3 USD left at 17 USD/h: about 10.6 minutes from now, well before the month ends.
  ASSERT_TRUE(tenant.has_projected_exhaustion_unix_seconds());
  EXPECT_GT(tenant.projected_exhaustion_unix_seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_LT(tenant.projected_exhaustion_unix_seconds(),
            absl::ToUnixSeconds(clock_.Now() + absl::Minutes(11)));
  EXPECT_EQ(tenant.period_start_unix_seconds(), absl::ToUnixSeconds(Utc(2024, 3, 1)));
  EXPECT_EQ(tenant.period_end_unix_seconds(), absl::ToUnixSeconds(Utc(2024, 4, 1)));
  EXPECT_EQ(tenant.decision(), v1::DECISION_ALERT);
  EXPECT_EQ(by_id.at("t-search").action(), v1::CAP_ACTION_REQUIRE_ACK);  // tier default
  EXPECT_EQ(by_id.at("org").period_end_unix_seconds(), absl::ToUnixSeconds(Utc(2024, 3, 15)));
}

TEST_F(CheckBudgetServiceTest, OnlyDecidingCapAnswersWithThatCapAlone) {
  PutCaps();
  ASSERT_TRUE(engine_.RecordSpend(ProdTags(), 17 * kUsd, clock_.Now(), "").ok());
  v1::CheckBudgetRequest request = Request(2 * kUsd);
  request.set_only_deciding_cap(true);

  absl::StatusOr<client::CheckOutcome> outcome = Client().Check(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  // The same decision as the full answer above, with the tenant cap's status alone.
  const v1::CheckBudgetResponse& r = outcome->response;
  EXPECT_EQ(r.decision(), v1::DECISION_ALERT);
  EXPECT_EQ(r.deciding_scope(), v1::SCOPE_TENANT);
  EXPECT_EQ(r.deciding_cap_id(), "x-acme");
  ASSERT_EQ(r.caps_size(), 1);
  EXPECT_EQ(r.caps(0).cap_id(), "x-acme");
  EXPECT_EQ(r.caps(0).spent_nano_usd(), 17 * kUsd);
  EXPECT_EQ(r.caps(0).remaining_nano_usd(), 3 * kUsd);
  EXPECT_EQ(r.caps(0).decision(), v1::DECISION_ALERT);

  // Another feature and tenant, within the team and org caps: ALLOW, and no status at all.
  request.set_estimated_cost_nano_usd(1);
  request.mutable_tags()->set_feature("report-writer");
  request.mutable_tags()->set_tenant("globex");
  outcome = Client().Check(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->response.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(outcome->response.caps_size(), 0);
  // Asked for every cap, the same check names the two that match.
  request.set_only_deciding_cap(false);
  outcome = Client().Check(request);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->response.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(outcome->response.caps_size(), 2);
}

TEST_F(CheckBudgetServiceTest, ManyChecksInParallelEachGetTheirOwnAnswer) {
  PutCaps();
  // Requests and responses live on per-call arenas: concurrent calls must not share them.
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      client::BudgetClient budget = Client();
      for (int i = 0; i < 50; ++i) {
        const int64_t estimate = (t * 50 + i) * kUsd / 100;
        absl::StatusOr<client::CheckOutcome> o = budget.Check(Request(estimate));
        if (!o.ok() || o->response.caps_size() != 4) {
          ++bad;
          continue;
        }
        for (const v1::CapStatus& s : o->response.caps()) {
          if (s.owner() != "lead@example.com" || s.cap_id().empty()) ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(CheckBudgetServiceTest, MalformedCheckIsInvalidArgumentNeverAllow) {
  v1::CheckBudgetRequest request = Request(kUsd);
  request.mutable_tags()->clear_tenant();
  absl::StatusOr<client::CheckOutcome> outcome = Client().Check(request);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
}

// CheckBudget is a raw method (it parses its own request bytes), so its answers to bytes that
// are not a CheckBudgetRequest, and to an empty request, are checked at the byte level.
class RawCheckBudgetTest : public CheckBudgetServiceTest {
 protected:
  // Sends `bytes` as the CheckBudget request; returns the status and the answer's length.
  std::pair<grpc::Status, size_t> SendRaw(const std::string& bytes) {
    grpc::GenericStub stub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
    grpc::Slice slice(bytes.data(), bytes.size());
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    absl::Mutex mu;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&context, "/stepledger.v1.Budget/CheckBudget", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                     absl::MutexLock lock(&mu);
                     status = std::move(s);
                     done = true;
                   });
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10)));
    return {status, response.Length()};
  }
};

TEST_F(RawCheckBudgetTest, UndecodableRequestBytesAreInvalidArgumentWithNoAnswer) {
  PutCaps();
  // Field 1 (tags) as a length-delimited field claiming 100 bytes, of which 2 follow.
  const auto [status, answer_bytes] = SendRaw(std::string("\x0a\x64\x0a\x01", 4));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("CheckBudgetRequest"));
  EXPECT_EQ(answer_bytes, 0u);
}

TEST_F(RawCheckBudgetTest, EmptyRequestIsRefusedForItsMissingTagsNeverAllowed) {
  PutCaps();
  const auto [status, answer_bytes] = SendRaw("");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("tags"));
  EXPECT_EQ(answer_bytes, 0u);
}

TEST_F(CheckBudgetServiceTest, CliPrintsEveryCapsFiguresOwnerAndPeriodEnd) {
  PutCaps();
  ASSERT_TRUE(engine_.RecordSpend(ProdTags(), 5 * kUsd, clock_.Now(), "").ok());
  std::istringstream in;
  std::ostringstream out, err;
  const client::CliContext context{target(), in, out, err};
  const int rc = client::RunBudgetCommand(
      context, {"check", "--feature", "inbox-triage", "--team", "search", "--tenant", "acme",
                "--workload-class", "interactive", "--env", "production", "--run", "run-1",
                "--estimate-usd", "4"});
  EXPECT_EQ(rc, 0) << err.str();  // ALERT still proceeds: 5 + 4 of the feature's 10
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("decision: ALERT"));
  EXPECT_THAT(text, HasSubstr("OWNER"));
  EXPECT_THAT(text, HasSubstr("x-acme"));
  EXPECT_THAT(text, HasSubstr("lead@example.com"));
  EXPECT_THAT(text, HasSubstr("2024-04-01 00:00:00Z"));  // the monthly caps' period end
  EXPECT_THAT(text, HasSubstr("2024-03-15 00:00:00Z"));  // the daily caps' period end

  std::ostringstream json_out;
  const client::CliContext json_context{target(), in, json_out, err};
  EXPECT_EQ(client::RunBudgetCommand(
                json_context, {"check", "--feature", "inbox-triage", "--team", "search", "--tenant",
                               "acme", "--workload-class", "interactive", "--env", "production",
                               "--run", "run-1", "--estimate-usd", "1", "--json"}),
            0);
  EXPECT_THAT(json_out.str(), HasSubstr("\"cap_id\":\"x-acme\""));
  EXPECT_THAT(json_out.str(), HasSubstr("\"period_end_unix_seconds\""));
}

}  // namespace
}  // namespace stepledger
