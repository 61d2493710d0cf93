// Reports.GetShowback without a database: request validation (period, environment, format),
// the report -> proto conversion, and the service end to end on an in-process server.
#include "server/transport/reports_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/transport/reports_convert.h"
#include "server/transport/work_pool.h"
#include "tests/fakes/no_auth.h"

namespace stepledger::transport {
namespace {

namespace reports = domain::reports;

TEST(ReportsConvertTest, DefaultPeriodIsMonthToDate) {
  auto q = FromProto(v1::ShowbackRequest(), absl::CivilDay(2026, 3, 17));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->from, absl::CivilDay(2026, 3, 1));
  EXPECT_EQ(q->to, absl::CivilDay(2026, 3, 17));
  EXPECT_EQ(q->environment, "");
  EXPECT_FALSE(q->format.has_value());
}

TEST(ReportsConvertTest, MonthCoversAllItsDaysIncludingLeapFebruary) {
  v1::ShowbackRequest r;
  r.set_month("2028-02");
  r.set_environment(v1::ENVIRONMENT_STAGING);
  r.set_format(v1::REPORT_FORMAT_FOCUS);
  auto q = FromProto(r, absl::CivilDay(2026, 3, 17));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->from, absl::CivilDay(2028, 2, 1));
  EXPECT_EQ(q->to, absl::CivilDay(2028, 2, 29));
  EXPECT_EQ(q->environment, "staging");
  ASSERT_TRUE(q->format.has_value());
  EXPECT_EQ(*q->format, render::ReportFormat::kFocus);
  r.set_month("2026-12");
  q = FromProto(r, absl::CivilDay(2026, 3, 17));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->to, absl::CivilDay(2026, 12, 31));
}

TEST(ReportsConvertTest, BadPeriodsNameTheField) {
  const absl::CivilDay today(2026, 3, 17);
  auto expect_field = [&](const v1::ShowbackRequest& r, const std::string& field) {
    auto q = FromProto(r, today);
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(q.status().message().substr(0, field.size() + 1), field + ":")
        << q.status().message();
  };
  for (const char* m : {"2026-13", "2026-3", "202603", "", "2026-03-01"}) {
    v1::ShowbackRequest r;
    r.set_month(m);
    expect_field(r, "month");
  }
  v1::ShowbackRequest r;
  r.mutable_range()->set_from("2026-02-30");
  r.mutable_range()->set_to("2026-03-01");
  expect_field(r, "range.from");
  r.mutable_range()->set_from("2026-03-01");
  r.mutable_range()->set_to("");
  expect_field(r, "range.to");
  r.mutable_range()->set_to("2026-02-28");
  expect_field(r, "range.to");  // before from
  r.mutable_range()->set_to("2026-03-01");
  ASSERT_TRUE(FromProto(r, today).ok());  // one day
  r.set_format(static_cast<v1::ReportFormat>(99));
  expect_field(r, "format");
  r.set_format(v1::REPORT_FORMAT_HTML);
  r.set_environment(static_cast<v1::Environment>(42));
  expect_field(r, "environment");
}

reports::ShowbackInputs Inputs(absl::CivilDay from, absl::CivilDay to) {
  reports::ShowbackInputs in;
  in.from = from;
  in.to = to;
  in.through = to;
  auto row = [&](const std::string& team, const std::string& tenant, int64_t cost) {
    reports::RollupRow r;
    r.day = from;
    r.feature = team + "-chat";
    r.team = team;
    r.tenant = tenant;
    r.workload_class = "interactive";
    r.environment = "production";
    r.kind = "model_call";
    r.provider = "openai";
    r.model = "gpt-4o";
    r.attribution_status = "ok";
    r.steps = 3;
    r.cost_nano_usd = cost;
    r.runs = 1;
    in.rows.push_back(r);
  };
  row("search", "t1", 3'000'000'000);
  row("mail-ai", "t2", 1'000'000'000);
  in.invoices.push_back({"openai", absl::CivilMonth(from), 4'500'000'000});
  return in;
}

class ReportsServiceTest : public ::testing::Test {
 protected:
  void Start(ShowbackLoader loader) {
    service_ =
        std::make_unique<ReportsService>(std::move(loader), pool_, stepledger::testing::NoAuth());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = v1::Reports::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  grpc::Status Get(const v1::ShowbackRequest& r, v1::ShowbackReport* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->GetShowback(&ctx, r, out);
  }

  WorkPool pool_{1, 4};
  std::unique_ptr<ReportsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Reports::Stub> stub_;
};

TEST_F(ReportsServiceTest, ReturnsTheStructuredReportAndTheRenderedText) {
  absl::Mutex mu;
  std::string seen_env;
  absl::CivilDay seen_from, seen_to;
  Start([&](absl::CivilDay from, absl::CivilDay to, const std::string& env) {
    absl::MutexLock lock(&mu);
    seen_from = from;
    seen_to = to;
    seen_env = env;
    return absl::StatusOr<reports::ShowbackInputs>(Inputs(from, to));
  });
  v1::ShowbackRequest r;
  r.set_month("2026-02");
  r.set_environment(v1::ENVIRONMENT_PRODUCTION);
  v1::ShowbackReport report;
  ASSERT_TRUE(Get(r, &report).ok());
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(seen_from, absl::CivilDay(2026, 2, 1));
    EXPECT_EQ(seen_to, absl::CivilDay(2026, 2, 28));
    EXPECT_EQ(seen_env, "production");
  }
  EXPECT_EQ(report.from(), "2026-02-01");
  EXPECT_EQ(report.to(), "2026-02-28");
  EXPECT_EQ(report.through(), "2026-02-28");
  EXPECT_EQ(report.environment(), v1::ENVIRONMENT_PRODUCTION);
  EXPECT_EQ(report.spend_nano_usd(), 4'000'000'000);
  ASSERT_EQ(report.teams_size(), 2);
  EXPECT_EQ(report.teams(0).key(), "search");  // by spend, descending
  EXPECT_EQ(report.teams(0).spend_nano_usd(), 3'000'000'000);
  EXPECT_EQ(report.teams(0).steps(), 3);
  ASSERT_EQ(report.teams(0).top_models_size(), 1);
  EXPECT_EQ(report.teams(0).top_models(0).model(), "gpt-4o");
  EXPECT_EQ(report.features_size(), 2);
  ASSERT_EQ(report.tenants_size(), 2);
  EXPECT_DOUBLE_EQ(report.tenants(0).share(), 0.75);
  EXPECT_EQ(report.data_quality().total_spend_nano_usd(), 4'000'000'000);
  ASSERT_EQ(report.invoices_size(), 1);
  EXPECT_EQ(report.invoices(0).month(), "2026-02");
  EXPECT_EQ(report.invoices(0).gap_nano_usd(), 500'000'000);
  EXPECT_TRUE(report.invoices(0).flagged());  // 11% gap
  EXPECT_GT(report.generated_at().seconds(), 0);
  EXPECT_TRUE(report.rendered().empty());

  r.set_format(v1::REPORT_FORMAT_CSV);
  v1::ShowbackReport csv;
  ASSERT_TRUE(Get(r, &csv).ok());
  EXPECT_EQ(csv.rendered_format(), v1::REPORT_FORMAT_CSV);
  EXPECT_NE(csv.rendered().find("team,search"), std::string::npos) << csv.rendered();
}

TEST_F(ReportsServiceTest, InvalidPeriodNeverReachesTheLoaderAndLoaderErrorsPassThrough) {
  int calls = 0;
  Start([&](absl::CivilDay, absl::CivilDay, const std::string&) {
    ++calls;
    return absl::StatusOr<reports::ShowbackInputs>(absl::UnavailableError("db down"));
  });
  v1::ShowbackRequest bad;
  bad.set_month("2026-00");
  v1::ShowbackReport report;
  grpc::Status st = Get(bad, &report);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message().rfind("month:", 0), 0u) << st.error_message();
  st = Get(v1::ShowbackRequest(), &report);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "db down");
  server_->Shutdown();
  server_.reset();
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace stepledger::transport
