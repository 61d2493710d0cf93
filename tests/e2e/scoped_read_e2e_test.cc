// Scoped reads end to end (docs/SECURITY.md, "Roles and scopes"): a real collector with keys
// on, a real PostgreSQL. A `report-read` key scoped to a team or tenant gets a showback built
// from that team's (tenant's) lines only, in the structured answer and in every rendered
// format, and reads only the runs charged to its scopes; an `acknowledge` key acknowledges only
// the caps of its own team. Exact lines and status codes.
#include <grpcpp/grpcpp.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "client/lib/send_all.h"
#include "client/lib/step_stream_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "stepledger/v1/collector.grpc.pb.h"
#include "stepledger/v1/keys.grpc.pb.h"
#include "stepledger/v1/reports.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestDatabase;

v1::StepEvent Step(const std::string& id, const std::string& run, const std::string& parent,
                   const std::string& team, const std::string& tenant, int64_t cost) {
  v1::StepEvent e;
  e.set_event_id(id);
  v1::Tags* t = e.mutable_tags();
  t->set_feature(team + "-chat");
  t->set_team(team);
  t->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
  t->set_tenant(tenant);
  t->set_environment(v1::ENVIRONMENT_PRODUCTION);
  t->set_parent_run_id(run);
  e.set_step_id(id);
  if (!parent.empty()) e.set_parent_step_id(parent);
  e.set_kind(v1::STEP_KIND_MODEL_CALL);
  e.set_provider("openai");
  e.set_model("gpt-4o");
  e.set_cost_nano_usd(cost);
  e.set_attempt(1);
  e.mutable_started_at()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 60);
  return e;
}

v1::Cap TeamCap(const std::string& team) {
  v1::Cap cap;
  cap.set_id(team + "-daily");
  cap.set_scope(v1::SCOPE_TEAM);
  cap.set_key(team);
  cap.set_period(v1::PERIOD_DAILY);
  cap.set_limit_nano_usd(1'000'000'000);
  cap.set_owner(team + "-lead");
  cap.set_signed_off_by("finance");
  cap.set_shadow(true);  // takes effect without a second approval; the scope rules are the same
  return cap;
}

class ScopedReadE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    collector_ = std::make_unique<CollectorProcess>(db_.url());
    ASSERT_TRUE(collector_->Start()) << collector_->Log();
    // The harness's admin key (STEPLEDGER_API_KEY) rides on every client-library channel.
    channel_ = client::MakeCollectorChannel(collector_->target());
    // Team search: run-s (root 1000 + child 2000, tenant acme); team billing: run-b (5000,
    // tenant globex).
    const std::vector<v1::StepEvent> events = {Step("s-1", "run-s", "", "search", "acme", 1000),
                                               Step("s-2", "run-s", "s-1", "search", "acme", 2000),
                                               Step("b-1", "run-b", "", "billing", "globex", 5000)};
    client::SendOptions options;
    options.stream.deadline = absl::Minutes(1);
    const client::StreamResult sent = client::SendAll(collector_->target(), events, options);
    ASSERT_TRUE(sent.all_acked()) << sent.status << "\n" << collector_->Log();
    ASSERT_EQ(sent.totals.accepted, 3);
    for (const std::string team : {"search", "billing"}) {
      auto budget = v1::Budget::NewStub(channel_);
      v1::PutBudgetRequest put;
      *put.mutable_cap() = TeamCap(team);
      v1::Cap out;
      grpc::ClientContext ctx;
      const grpc::Status s = budget->PutBudget(&ctx, put, &out);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  std::string Key(const std::string& name, const std::string& role, const std::string& scope) {
    auto keys = v1::Keys::NewStub(channel_);
    v1::CreateKeyRequest req;
    req.set_name(name);
    req.add_roles(role);
    req.add_scopes(scope);
    v1::CreateKeyResponse out;
    grpc::ClientContext ctx;
    const grpc::Status s = keys->CreateKey(&ctx, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out.token();
  }

  // A channel that carries `token` and nothing else (not the harness's admin key).
  static void Authorize(grpc::ClientContext& ctx, const std::string& token) {
    ctx.AddMetadata("authorization", "Bearer " + token);
  }
  std::shared_ptr<grpc::Channel> Bare() { return testing::ChannelWithoutKey(collector_->target()); }

  grpc::Status Showback(const std::string& token, v1::ReportFormat format,
                        v1::ShowbackReport* report) {
    const std::string today =
        absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()));
    v1::ShowbackRequest req;
    req.mutable_range()->set_from(today);
    req.mutable_range()->set_to(today);
    req.set_roll_up_missing(true);
    req.set_format(format);
    auto stub = v1::Reports::NewStub(Bare());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    Authorize(ctx, token);
    return stub->GetShowback(&ctx, req, report);
  }

  grpc::Status Run(const std::string& token, const std::string& run_id, v1::Run* run) {
    auto stub = v1::Collector::NewStub(Bare());
    v1::GetRunRequest req;
    req.set_run_id(run_id);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    Authorize(ctx, token);
    return stub->GetRun(&ctx, req, run);
  }

  grpc::Status Ack(const std::string& token, const std::string& cap_id) {
    auto stub = v1::Budget::NewStub(Bare());
    v1::AcknowledgeRequest req;
    req.set_cap_id(cap_id);
    req.set_reason("scoped e2e");
    req.set_extra_headroom_nano_usd(1);
    req.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
    v1::Acknowledgement out;
    grpc::ClientContext ctx;
    Authorize(ctx, token);
    return stub->Acknowledge(&ctx, req, &out);
  }

  TestDatabase db_;
  std::unique_ptr<CollectorProcess> collector_;
  std::shared_ptr<grpc::Channel> channel_;
};

std::map<std::string, int64_t> Lines(const google::protobuf::RepeatedPtrField<v1::SpendLine>& in) {
  std::map<std::string, int64_t> out;
  for (const v1::SpendLine& line : in) out[line.key()] = line.spend_nano_usd();
  return out;
}

TEST_F(ScopedReadE2eTest, ShowbackOfATeamKeyHoldsOnlyThatTeamsLines) {
  const std::string all = Key("finance", "report-read", "*");
  const std::string search = Key("search-reader", "report-read", "team:search");
  const std::string globex = Key("globex-reader", "report-read", "tenant:globex");

  v1::ShowbackReport everything;
  grpc::Status s = Showback(all, v1::REPORT_FORMAT_UNSPECIFIED, &everything);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(everything.spend_nano_usd(), 8000);
  EXPECT_EQ(Lines(everything.teams()),
            (std::map<std::string, int64_t>{{"billing", 5000}, {"search", 3000}}));

  v1::ShowbackReport mine;
  s = Showback(search, v1::REPORT_FORMAT_UNSPECIFIED, &mine);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(mine.spend_nano_usd(), 3000);
  EXPECT_EQ(mine.total_spend_nano_usd(), 3000);
  EXPECT_EQ(Lines(mine.teams()), (std::map<std::string, int64_t>{{"search", 3000}}));
  EXPECT_EQ(Lines(mine.features()), (std::map<std::string, int64_t>{{"search-chat", 3000}}));
  ASSERT_EQ(mine.tenants_size(), 1);
  EXPECT_EQ(mine.tenants(0).tenant(), "acme");
  EXPECT_DOUBLE_EQ(mine.tenants(0).share(), 1.0);
  ASSERT_EQ(mine.teams_size(), 1);
  EXPECT_EQ(mine.teams(0).runs(), 1);  // its team's run statistics

  // Every rendered format is built from the same filtered lines.
  for (const v1::ReportFormat format : {v1::REPORT_FORMAT_CSV, v1::REPORT_FORMAT_JSON,
                                        v1::REPORT_FORMAT_FOCUS, v1::REPORT_FORMAT_HTML}) {
    SCOPED_TRACE(v1::ReportFormat_Name(format));
    v1::ShowbackReport rendered;
    s = Showback(search, format, &rendered);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_THAT(rendered.rendered(), HasSubstr("search"));
    EXPECT_THAT(rendered.rendered(), Not(HasSubstr("billing")));
    EXPECT_THAT(rendered.rendered(), Not(HasSubstr("globex")));
  }

  v1::ShowbackReport tenant;
  s = Showback(globex, v1::REPORT_FORMAT_UNSPECIFIED, &tenant);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(tenant.spend_nano_usd(), 5000);
  EXPECT_EQ(Lines(tenant.teams()), (std::map<std::string, int64_t>{{"billing", 5000}}));
  ASSERT_EQ(tenant.tenants_size(), 1);
  EXPECT_EQ(tenant.tenants(0).tenant(), "globex");
}

TEST_F(ScopedReadE2eTest, RunsAreReadOnlyByKeysWhoseScopesTheyAreChargedTo) {
  const std::string search = Key("search-reader", "report-read", "team:search");
  const std::string all = Key("finance", "report-read", "*");
  v1::Run run;
  grpc::Status s = Run(search, "run-s", &run);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(run.step_count(), 2);
  EXPECT_EQ(run.total_cost_nano_usd(), 3000);

  v1::Run other;
  s = Run(search, "run-b", &other);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("charged outside the credential's scope"));
  EXPECT_THAT(s.error_message(), Not(HasSubstr("billing")));  // names no tag of the run
  EXPECT_EQ(other.step_count(), 0);

  EXPECT_EQ(Run(search, "run-none", &other).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Run(all, "run-b", &other).error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(other.total_cost_nano_usd(), 5000);
}

TEST_F(ScopedReadE2eTest, AcknowledgeOnlyByTheCapOwnersScopeOrAnAdmin) {
  const std::string search = Key("search-oncall", "acknowledge", "team:search");
  const std::string narrowed = Key("search-acme", "acknowledge", "tenant:acme");
  const std::string admin = Key("ops-admin", "admin", "*");
  EXPECT_EQ(Ack(search, "search-daily").error_code(), grpc::StatusCode::OK);
  const grpc::Status other = Ack(search, "billing-daily");
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(other.error_message(), HasSubstr("billing-daily"));
  // A key for one tenant does not cover a whole team's cap.
  EXPECT_EQ(Ack(narrowed, "search-daily").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Ack(admin, "billing-daily").error_code(), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace stepledger
