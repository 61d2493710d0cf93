// E2E: CheckBudget against real collector processes and PostgreSQL.
#include <atomic>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/send_all.h"
#include "client/lib/step_stream_client.h"
#include "gtest/gtest.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/e2e_steps.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::ResearchAgentStep;
using testing::ResearchAgentTags;
using testing::TestDatabase;

constexpr int64_t kUsd = 1'000'000'000;

std::unique_ptr<v1::Budget::Stub> BudgetStub(const std::string& target) {
  return v1::Budget::NewStub(client::MakeCollectorChannel(target));
}

void PutTeamCap(v1::Budget::Stub& stub, int64_t limit) {
  v1::PutBudgetRequest req;
  v1::Cap* cap = req.mutable_cap();
  cap->set_id("team-deep-research-monthly");
  cap->set_scope(v1::SCOPE_TEAM);
  cap->set_key("deep-research");
  cap->set_period(v1::PERIOD_MONTHLY);
  cap->set_limit_nano_usd(limit);
  cap->set_owner("research-lead");
  cap->set_signed_off_by("finance");
  req.set_changed_by("e2e");
  v1::Cap out;
  grpc::ClientContext ctx;
  grpc::Status s = stub.PutBudget(&ctx, req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.action(), v1::CAP_ACTION_REQUIRE_ACK) << "team caps require acknowledgement";
}

v1::CheckBudgetResponse Check(v1::Budget::Stub& stub, const std::string& run, int64_t estimate,
                              const std::string& reserve_step = "") {
  v1::CheckBudgetRequest req;
  *req.mutable_tags() = ResearchAgentTags(run);
  req.set_estimated_cost_nano_usd(estimate);
  if (!reserve_step.empty()) {
    req.set_reserve(true);
    req.set_step_id(reserve_step);
  }
  v1::CheckBudgetResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = stub.CheckBudget(&ctx, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp;
}

int64_t LedgerSpend(const std::string& url) {
  pqxx::connection c(url);
  pqxx::nontransaction t(c);
  return t
      .exec1(
          "SELECT COALESCE(sum(cost_nano_usd), 0) FROM steps WHERE charged_team = "
          "'deep-research'")[0]
      .as<int64_t>();
}

TEST(BudgetE2ETest, FortyParallelAgentsReservingCannotOvershootATeamCap) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();
  auto admin = BudgetStub(collector.target());
  constexpr int64_t kLimit = 1 * kUsd;
  constexpr int64_t kEstimate = 30'000'000;  // $0.03 per step; the actual cost equals it
  PutTeamCap(*admin, kLimit);

  constexpr int kAgents = 40;
  std::atomic<int> admitted{0}, stopped{0};
  std::vector<std::thread> agents;
  for (int a = 0; a < kAgents; ++a) {
    agents.emplace_back([&, a] {
      auto stub = BudgetStub(collector.target());
      client::StreamOptions options;
      options.batch_size = 1;
      options.max_in_flight = 4;
      client::StepStreamClient stream(client::MakeCollectorChannel(collector.target()), options);
      const std::string run = absl::StrCat("agent-", a);
      for (int step = 0; step < 100; ++step) {
        const std::string id = absl::StrCat("s", step);
        v1::CheckBudgetResponse r = Check(*stub, run, kEstimate, id);
        if (r.decision() == v1::DECISION_REQUIRE_ACK) {
          EXPECT_EQ(r.deciding_scope(), v1::SCOPE_TEAM);
          EXPECT_EQ(r.deciding_cap_id(), "team-deep-research-monthly");
          ++stopped;
          break;
        }
        EXPECT_FALSE(r.reservation_id().empty());
        ++admitted;
        stream.Add(ResearchAgentStep(run, id, kEstimate));
      }
      client::StreamResult result = stream.Finish();
      EXPECT_TRUE(result.all_acked()) << result.status;
    });
  }
  for (auto& t : agents) t.join();
  EXPECT_EQ(stopped.load(), kAgents) << "every agent is eventually told to stop";
  const int64_t committed = LedgerSpend(db.url());
  EXPECT_EQ(committed, admitted.load() * kEstimate);
  // The stated bound with every step reserving and estimate == actual: no overshoot at all.
  EXPECT_LE(committed, kLimit);
  EXPECT_GT(committed, kLimit - kAgents * kEstimate) << "the cap was actually used";

  // An acknowledgement with headroom turns REQUIRE_ACK back into ALLOW/ALERT for everyone.
  v1::AcknowledgeRequest ack;
  ack.set_cap_id("team-deep-research-monthly");
  ack.set_principal("research-lead");
  ack.set_reason("quarter-end report run");
  ack.set_extra_headroom_nano_usd(kUsd / 2);
  ack.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(absl::Now() + absl::Hours(2)));
  v1::Acknowledgement recorded;
  grpc::ClientContext ctx;
  ASSERT_TRUE(admin->Acknowledge(&ctx, ack, &recorded).ok());
  for (int a = 0; a < kAgents; ++a) {
    v1::CheckBudgetResponse r = Check(*admin, absl::StrCat("agent-", a), kEstimate);
    EXPECT_NE(r.decision(), v1::DECISION_REQUIRE_ACK) << "agent " << a;
  }
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

TEST(BudgetE2ETest, SpendSentToOneReplicaIsSeenByAnotherWithinTheStalenessBound) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess a(db.url(), {"--budget-refresh-interval=1s"});
  CollectorProcess b(db.url(), {"--budget-refresh-interval=1s"});
  ASSERT_TRUE(a.Start()) << a.Log();
  ASSERT_TRUE(b.Start()) << b.Log();
  auto stub_a = BudgetStub(a.target());
  auto stub_b = BudgetStub(b.target());
  PutTeamCap(*stub_a, 10 * kUsd);

  // B learns about the cap within the bound too.
  const absl::Time cap_put = absl::Now();
  while (Check(*stub_b, "probe", 0).caps_size() == 0 && absl::Now() - cap_put < absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(Check(*stub_b, "probe", 0).caps_size(), 1);

  constexpr int64_t kSpent = 3 * kUsd;
  std::vector<v1::StepEvent> events;
  for (int i = 0; i < 30; ++i)
    events.push_back(ResearchAgentStep("run-x", absl::StrCat("s", i), kSpent / 30));
  client::SendOptions send;
  send.streams = 1;
  client::StreamResult sent = client::SendAll(a.target(), events, send);
  ASSERT_TRUE(sent.all_acked()) << sent.status;
  const absl::Time acked = absl::Now();
  EXPECT_EQ(Check(*stub_a, "probe", 0).caps(0).spent_nano_usd(), kSpent)
      << "the replica that committed sees its spend at once";
  int64_t seen = 0;
  while (absl::Now() - acked < absl::Seconds(5)) {
    seen = Check(*stub_b, "probe", 0).caps(0).spent_nano_usd();
    if (seen == kSpent) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration lag = absl::Now() - acked;
  EXPECT_EQ(seen, kSpent);
  // Documented bound: refresh interval (1 s) + one refresh round trip; 2.5 s leaves room for a
  // loaded 2-core CI machine.
  EXPECT_LE(lag, absl::Milliseconds(2500)) << "lag " << absl::FormatDuration(lag);
  EXPECT_EQ(a.Stop(), 0) << a.Log();
  EXPECT_EQ(b.Stop(), 0) << b.Log();
}

TEST(BudgetE2ETest, ProductionCheckWithoutTagsIsAnErrorNeverAllow) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();
  auto stub = BudgetStub(collector.target());
  v1::CheckBudgetRequest req;
  *req.mutable_tags() = ResearchAgentTags("r");
  req.mutable_tags()->clear_team();
  req.set_estimated_cost_nano_usd(1);
  v1::CheckBudgetResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = stub->CheckBudget(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("team"), std::string::npos) << s.error_message();
  EXPECT_EQ(collector.Stop(), 0);
}

}  // namespace
}  // namespace stepledger
