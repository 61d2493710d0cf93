// Admin service without a database: each RPC on an in-process gRPC server (127.0.0.1 port 0)
// over a fake AdminBackend. Checks validation (errors name the field and never reach the
// backend), the conversions both ways, the lock-held rollup (ABORTED), the invoice
// reconciliation, the what-if replay, and the long operations polled by id.
#include "server/transport/admin_service.h"

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/transport/admin_convert.h"
#include "server/transport/work_pool.h"
#include "tests/fakes/no_auth.h"

namespace stepledger::transport {
namespace {

namespace pricing = domain::pricing;
namespace reports = domain::reports;

constexpr int64_t kUsd = 1'000'000'000;

class FakeBackend : public AdminBackend {
 public:
  absl::StatusOr<reports::RollupRunResult> RollUp(absl::CivilDay from, absl::CivilDay to,
                                                  const DayDone& on_day) override {
    absl::Notification* hold = nullptr;
    {
      absl::MutexLock lock(&mu);
      ++rollup_calls;
      if (lock_held) return reports::RollupRunResult{.ran = false, .days = {}};
      hold = hold_after_first_day;
    }
    reports::RollupRunResult run{.ran = true, .days = {}};
    for (absl::CivilDay d = from; d <= to; ++d) {
      run.days.push_back({.day = d,
                          .first_roll = d == from,
                          .source_rows = 3,
                          .total_cost_nano_usd = 2 * kUsd,
                          .correction_cost_nano_usd = d == from ? 0 : kUsd / 2});
      if (on_day && !on_day(run.days.back())) break;
      if (hold != nullptr && d == from) hold->WaitForNotification();
    }
    absl::MutexLock lock(&mu);
    last_run_days = static_cast<int>(run.days.size());
    return run;
  }
  absl::Status ImportInvoices(const std::vector<reports::Invoice>& invoices,
                              const std::string& source,
                              const domain::auth::AuditActor& actor) override {
    absl::MutexLock lock(&mu);
    stored_invoices = invoices;
    invoice_source = source;
    last_actor = actor;
    return absl::OkStatus();
  }
  absl::StatusOr<reports::ShowbackInputs> LoadShowback(absl::CivilDay from, absl::CivilDay to,
                                                       const std::string&) override {
    absl::MutexLock lock(&mu);
    reports::ShowbackInputs in;
    in.from = from;
    in.to = to;
    in.through = to;
    reports::RollupRow row;
    row.day = from;
    row.feature = "chat";
    row.team = "search";
    row.tenant = "t1";
    row.environment = "production";
    row.provider = "openai";
    row.model = "gpt-4o";
    row.attribution_status = "complete";
    row.steps = 1;
    row.cost_nano_usd = 90 * kUsd;
    in.rows.push_back(row);
    in.invoices = stored_invoices;
    return in;
  }
  absl::StatusOr<std::vector<pricing::UnpricedGroup>> ListUnpriced(absl::Time since,
                                                                   absl::Time until) override {
    absl::MutexLock lock(&mu);
    unpriced_since = since;
    unpriced_until = until;
    return std::vector<pricing::UnpricedGroup>{{"mystery-1", "", "unknown_model", 4,
                                                absl::FromUnixSeconds(100),
                                                absl::FromUnixSeconds(200)}};
  }
  absl::StatusOr<pricing::PriceVersionInfo> SavePriceVersion(
      const pricing::CatalogTexts& texts, absl::Time now,
      const domain::auth::AuditActor& actor) override {
    {
      absl::MutexLock lock(&mu);
      last_actor = actor;
    }
    pricing::PriceVersionInfo info;
    info.id = "v7";
    info.effective_from = now;
    info.model_source = texts.model_source;
    info.model_count = static_cast<int64_t>(texts.model_text.size());
    info.created = true;
    return info;
  }
  absl::StatusOr<pricing::RepriceReport> Reprice(absl::Time since, absl::Time until, bool dry_run,
                                                 const domain::auth::AuditActor& actor) override {
    {
      absl::MutexLock lock(&mu);
      last_actor = actor;
    }
    pricing::RepriceReport report;
    report.corrections.push_back(
        {"e1", since, "run-1", "gpt-4o", std::nullopt, 5 * kUsd, 5 * kUsd, "v7", "unpriced"});
    report.total_delta_nano_usd = 5 * kUsd;
    report.examined = 2;
    report.still_unpriced = 1;
    report.dry_run = dry_run;
    return report;
  }
  absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> ListAdminAudit(int limit) override {
    absl::MutexLock lock(&mu);
    audit_limit = limit;
    return std::vector<domain::auth::AdminAuditRecord>{{.id = 9,
                                                        .action = "reprice",
                                                        .actor = {"key:pricing/ab12", "monthly"},
                                                        .detail_json = "{\"corrections\": 1}",
                                                        .changed_at = absl::FromUnixSeconds(300)}};
  }
  absl::StatusOr<std::shared_ptr<const pricing::PriceVersion>> PriceVersionFor(
      const std::string& catalog_text, const std::string& catalog_source, absl::Time) override {
    auto version = std::make_shared<pricing::PriceVersion>();
    version->id = catalog_text.empty() ? "v7" : catalog_source;
    pricing::ModelPrice price;
    price.name = "gpt-4o";
    price.provider = "openai";
    price.mode = "chat";
    pricing::TierPrices standard;
    standard.base.input = 2'500'000'000;    // $2.50 per 1M tokens, in femto-USD per token
    standard.base.output = 10'000'000'000;  // $10 per 1M tokens
    price.tiers[pricing::ServiceTier::kStandard] = standard;
    version->models["gpt-4o"] = price;
    return std::shared_ptr<const pricing::PriceVersion>(std::move(version));
  }
  absl::StatusOr<std::vector<domain::budget::HistoricalStep>> LoadBudgetHistory(
      absl::Time since, absl::Time until, const std::vector<domain::Environment>&) override {
    absl::Notification* hold = nullptr;
    {
      absl::MutexLock lock(&mu);
      if (++history_calls == 2) hold = hold_history_after_first_read;
    }
    if (hold != nullptr) hold->WaitForNotification();
    // Three $4 steps of one team, minutes before the fake was made: inside any window that
    // ends now, and in exactly one of a day-by-day read.
    std::vector<domain::budget::HistoricalStep> history;
    for (int i = 0; i < 3; ++i) {
      domain::budget::HistoricalStep step;
      step.tags.feature = "chat";
      step.tags.team = "search";
      step.tags.tenant = "t1";
      step.tags.environment = domain::Environment::kProduction;
      step.tags.parent_run_id = absl::StrCat("run-", i);
      step.cost_nano_usd = 4 * kUsd;
      step.occurred_at = made_at_ - absl::Minutes(10 - i);
      if (step.occurred_at >= since && step.occurred_at < until) history.push_back(step);
    }
    return history;
  }

  absl::Mutex mu;
  bool lock_held ABSL_GUARDED_BY(mu) = false;
  // When set, a rollup waits for it after its first day (to watch an operation half done).
  absl::Notification* hold_after_first_day ABSL_GUARDED_BY(mu) = nullptr;
  int rollup_calls ABSL_GUARDED_BY(mu) = 0;
  int last_run_days ABSL_GUARDED_BY(mu) = 0;
  std::vector<reports::Invoice> stored_invoices ABSL_GUARDED_BY(mu);
  std::string invoice_source ABSL_GUARDED_BY(mu);
  domain::auth::AuditActor last_actor ABSL_GUARDED_BY(mu);
  int audit_limit ABSL_GUARDED_BY(mu) = 0;
  absl::Time unpriced_since ABSL_GUARDED_BY(mu), unpriced_until ABSL_GUARDED_BY(mu);
  int history_calls ABSL_GUARDED_BY(mu) = 0;
  // When set, the second history read waits for it (a what-if operation half done).
  absl::Notification* hold_history_after_first_read ABSL_GUARDED_BY(mu) = nullptr;

 private:
  const absl::Time made_at_ = absl::Now();
};

class AdminServiceTest : public ::testing::Test {
 protected:
  AdminServiceTest() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    EXPECT_NE(port, 0);
    stub_ = v1::Admin::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~AdminServiceTest() override { server_->Shutdown(); }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  FakeBackend backend_;
  WorkPool pool_{2, 8};
  domain::SystemClock clock_;
  OperationRegistry operations_{clock_};
  AdminService service_{backend_, stepledger::testing::NoAuth(), pool_, operations_};
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Admin::Stub> stub_;
};

TEST_F(AdminServiceTest, RollUpReturnsEachDayItRolledOldestFirst) {
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-11-27");
  request.mutable_range()->set_to("2026-11-28");
  v1::RollUpResponse response;
  ASSERT_TRUE(stub_->RollUp(Context().get(), request, &response).ok());
  ASSERT_EQ(response.days_size(), 2);
  EXPECT_EQ(response.days(0).day(), "2026-11-27");
  EXPECT_TRUE(response.days(0).first_roll());
  EXPECT_EQ(response.days(1).day(), "2026-11-28");
  EXPECT_FALSE(response.days(1).first_roll());
  EXPECT_EQ(response.days(1).source_rows(), 3);
  EXPECT_EQ(response.days(1).total_cost_nano_usd(), 2 * kUsd);
  EXPECT_EQ(response.days(1).correction_cost_nano_usd(), kUsd / 2);
}

TEST_F(AdminServiceTest, RollUpWhileAnotherHoldsTheLockIsAbortedAndSaysSo) {
  {
    absl::MutexLock lock(&backend_.mu);
    backend_.lock_held = true;
  }
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-11-28");
  request.mutable_range()->set_to("2026-11-28");
  v1::RollUpResponse response;
  const grpc::Status status = stub_->RollUp(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(status.error_message().find("holds the lock"), std::string::npos);
  EXPECT_EQ(response.days_size(), 0);
}

TEST_F(AdminServiceTest, BadRollUpRangesNameTheFieldAndNeverReachTheBackend) {
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"2026-11-31", "2026-12-01"}, "range.from"},
      {{"2026-11-02", "2026-11-01"}, "range.to"},
      {{"2024-01-01", "2026-01-01"}, "range:"}};
  for (const auto& [range, field] : cases) {
    v1::RollUpRequest request;
    request.mutable_range()->set_from(range.first);
    request.mutable_range()->set_to(range.second);
    v1::RollUpResponse response;
    const grpc::Status status = stub_->RollUp(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_EQ(status.error_message().rfind(field, 0), 0u) << status.error_message();
  }
  absl::MutexLock lock(&backend_.mu);
  EXPECT_EQ(backend_.rollup_calls, 0);
}

TEST_F(AdminServiceTest, ImportInvoiceStoresEveryMonthAndReconcilesWithAttributedSpend) {
  v1::ImportInvoiceRequest request;
  request.set_provider("openai");
  request.set_source("csv:daily.csv");
  request.set_reason("finance-cfo says so");
  v1::InvoiceMonth* month = request.add_months();
  month->set_month("2026-11");
  month->set_amount_nano_usd(100 * kUsd);
  v1::ImportInvoiceResponse response;
  ASSERT_TRUE(stub_->ImportInvoice(Context().get(), request, &response).ok());
  {
    absl::MutexLock lock(&backend_.mu);
    ASSERT_EQ(backend_.stored_invoices.size(), 1u);
    EXPECT_EQ(backend_.stored_invoices[0].month, absl::CivilMonth(2026, 11));
    EXPECT_EQ(backend_.invoice_source, "csv:daily.csv");
    // Audited as the credential; the typed reason is only its note.
    EXPECT_EQ(backend_.last_actor.identity, "key:insecure-no-auth/none");
    EXPECT_EQ(backend_.last_actor.note, "finance-cfo says so");
  }
  ASSERT_EQ(response.reconciliation_size(), 1);
  EXPECT_EQ(response.reconciliation(0).month(), "2026-11");
  EXPECT_EQ(response.reconciliation(0).invoiced_nano_usd(), 100 * kUsd);
  EXPECT_EQ(response.reconciliation(0).attributed_nano_usd(), 90 * kUsd);
  EXPECT_EQ(response.reconciliation(0).gap_nano_usd(), 10 * kUsd);
  EXPECT_TRUE(response.reconciliation(0).flagged());  // 10% > 5%

  request.set_reason(std::string(kMaxReasonBytes + 1, 'x'));
  const grpc::Status long_reason = stub_->ImportInvoice(Context().get(), request, &response);
  EXPECT_EQ(long_reason.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(long_reason.error_message().rfind("reason:", 0), 0u) << long_reason.error_message();

  request.add_months()->set_month("2026-11");  // twice
  const grpc::Status twice = stub_->ImportInvoice(Context().get(), request, &response);
  EXPECT_EQ(twice.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(twice.error_message().rfind("months[1].month", 0), 0u) << twice.error_message();
}

TEST_F(AdminServiceTest, ListUnpricedDefaultsToTheLastDayAndConvertsTheGroups) {
  v1::ListUnpricedResponse response;
  const absl::Time before = absl::Now();
  ASSERT_TRUE(stub_->ListUnpriced(Context().get(), v1::ListUnpricedRequest(), &response).ok());
  {
    absl::MutexLock lock(&backend_.mu);
    EXPECT_GE(backend_.unpriced_since, before - absl::Hours(24));
    EXPECT_LE(backend_.unpriced_since, absl::Now() - absl::Hours(24));
    EXPECT_EQ(backend_.unpriced_until, absl::InfiniteFuture());
  }
  EXPECT_FALSE(response.has_until());
  ASSERT_EQ(response.groups_size(), 1);
  EXPECT_EQ(response.groups(0).model(), "mystery-1");
  EXPECT_EQ(response.groups(0).reason(), "unknown_model");
  EXPECT_EQ(response.groups(0).steps(), 4);
  EXPECT_EQ(response.groups(0).last_seen().seconds(), 200);
}

TEST_F(AdminServiceTest, LoadPriceCatalogNeedsTheModelCatalogText) {
  v1::LoadPriceCatalogRequest request;
  v1::PriceVersionInfo info;
  const grpc::Status missing = stub_->LoadPriceCatalog(Context().get(), request, &info);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing.error_message().rfind("model_text", 0), 0u);
  request.set_model_source("catalog.json");
  request.set_model_text("{}");
  ASSERT_TRUE(stub_->LoadPriceCatalog(Context().get(), request, &info).ok());
  EXPECT_EQ(info.id(), "v7");
  EXPECT_EQ(info.model_source(), "catalog.json");
  EXPECT_TRUE(info.created());
  EXPECT_GT(info.effective_from().seconds(), 0);
}

TEST_F(AdminServiceTest, ListAdminAuditChecksTheLimitAndConvertsTheRows) {
  v1::ListAdminAuditRequest request;
  v1::ListAdminAuditResponse response;
  request.set_limit(1001);
  const grpc::Status too_many = stub_->ListAdminAudit(Context().get(), request, &response);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(too_many.error_message().rfind("limit:", 0), 0u) << too_many.error_message();
  request.set_limit(0);
  ASSERT_TRUE(stub_->ListAdminAudit(Context().get(), request, &response).ok());
  {
    absl::MutexLock lock(&backend_.mu);
    EXPECT_EQ(backend_.audit_limit, 100);
  }
  ASSERT_EQ(response.entries_size(), 1);
  EXPECT_EQ(response.entries(0).action(), "reprice");
  EXPECT_EQ(response.entries(0).actor(), "key:pricing/ab12");
  EXPECT_EQ(response.entries(0).note(), "monthly");
  EXPECT_EQ(response.entries(0).detail_json(), "{\"corrections\": 1}");
  EXPECT_EQ(response.entries(0).changed_at().seconds(), 300);
}

TEST_F(AdminServiceTest, RepriceNeedsSinceAndReturnsTheCorrections) {
  v1::RepriceRequest request;
  v1::RepriceResponse response;
  EXPECT_EQ(stub_->Reprice(Context().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.mutable_since()->set_seconds(1000);
  request.set_dry_run(true);
  ASSERT_TRUE(stub_->Reprice(Context().get(), request, &response).ok());
  ASSERT_EQ(response.corrections_size(), 1);
  EXPECT_FALSE(response.corrections(0).has_old_cost_nano_usd());  // was unpriced
  EXPECT_EQ(response.corrections(0).new_cost_nano_usd(), 5 * kUsd);
  EXPECT_EQ(response.corrections(0).occurred_at().seconds(), 1000);
  EXPECT_EQ(response.total_delta_nano_usd(), 5 * kUsd);
  EXPECT_EQ(response.still_unpriced(), 1);
  EXPECT_TRUE(response.dry_run());
}

TEST_F(AdminServiceTest, QuotePriceGivesRatesAndTheExactCostOfOneCall) {
  v1::QuotePriceRequest request;
  request.set_model("gpt-4o");
  v1::QuotePriceResponse response;
  ASSERT_TRUE(stub_->QuotePrice(Context().get(), request, &response).ok());
  EXPECT_EQ(response.catalog(), "v7");
  ASSERT_EQ(response.tiers_size(), 1);
  EXPECT_EQ(response.tiers(0).tier(), "standard");
  EXPECT_EQ(response.tiers(0).base().input(), 2'500'000'000);
  EXPECT_FALSE(response.quoted());  // no usage: rates only

  request.mutable_usage()->set_input_uncached_tokens(1000);
  request.mutable_usage()->set_output_tokens(500);
  ASSERT_TRUE(stub_->QuotePrice(Context().get(), request, &response).ok());
  ASSERT_TRUE(response.quoted());
  // 1000 * $2.50/1M + 500 * $10/1M = $0.0025 + $0.005
  EXPECT_EQ(response.cost_nano_usd(), 7'500'000);
  EXPECT_EQ(response.output_tokens(), 500);
  EXPECT_EQ(response.tier(), "standard");

  request.set_model("no-such-model");
  EXPECT_EQ(stub_->QuotePrice(Context().get(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  request.set_model("gpt-4o");
  request.set_tier("gold");
  const grpc::Status tier = stub_->QuotePrice(Context().get(), request, &response);
  EXPECT_EQ(tier.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(tier.error_message().rfind("tier:", 0), 0u);
}

TEST_F(AdminServiceTest, WhatIfReplaysTheHistoryAgainstTheProposedCap) {
  v1::WhatIfBudgetRequest request;
  v1::Cap* cap = request.add_caps();
  cap->set_scope(v1::SCOPE_TEAM);
  cap->set_key("search");
  cap->set_period(v1::PERIOD_DAILY);
  cap->set_limit_nano_usd(10 * kUsd);  // the third $4 step goes past $10
  v1::WhatIfBudgetResponse response;
  ASSERT_TRUE(stub_->WhatIfBudget(Context().get(), request, &response).ok());
  EXPECT_EQ(response.days(), 30);
  EXPECT_EQ(response.caps(), 1);
  EXPECT_EQ(response.replayed().steps(), 3);
  EXPECT_EQ(response.replayed().cost_nano_usd(), 12 * kUsd);
  EXPECT_EQ(response.total().require_ack().steps(), 1);  // a team cap requires ack
  EXPECT_EQ(response.total().alert().steps(), 1);        // past 80% of $10
  ASSERT_EQ(response.by_team_size(), 1);
  EXPECT_EQ(response.by_team(0).name(), "search");
  ASSERT_EQ(response.by_cap_size(), 1);
  EXPECT_EQ(response.by_cap(0).name(), "proposed-0");

  request.set_days(401);
  EXPECT_EQ(stub_->WhatIfBudget(Context().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Polls GetOperation until `until` holds for the answer (10 s at most).
v1::Operation PollUntil(v1::Admin::Stub& stub, const std::string& id,
                        const std::function<bool(const v1::Operation&)>& until) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  v1::Operation op;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    v1::GetOperationRequest request;
    request.set_id(id);
    const grpc::Status status = stub.GetOperation(&context, request, &op);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok() || until(op)) return op;
    absl::SleepFor(absl::Milliseconds(5));
  }
  ADD_FAILURE() << "operation " << id << " never got there: " << op.ShortDebugString();
  return op;
}

TEST_F(AdminServiceTest, StartRollUpAnswersAtOnceThenReportsEachDayAndTheResult) {
  absl::Notification release;
  {
    absl::MutexLock lock(&backend_.mu);
    backend_.hold_after_first_day = &release;
  }
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-11-27");
  request.mutable_range()->set_to("2026-11-29");
  v1::Operation started;
  ASSERT_TRUE(stub_->StartRollUp(Context().get(), request, &started).ok());
  EXPECT_FALSE(started.id().empty());
  EXPECT_EQ(started.kind(), "rollup");
  EXPECT_EQ(started.units_total(), 3);
  EXPECT_FALSE(started.done());

  // Half done: the first day is reported while the backend still works.
  v1::Operation half =
      PollUntil(*stub_, started.id(), [](const v1::Operation& op) { return op.units_done() > 0; });
  EXPECT_EQ(half.units_done(), 1);
  EXPECT_EQ(half.last_unit(), "2026-11-27");
  EXPECT_FALSE(half.done());
  EXPECT_FALSE(half.has_roll_up());

  release.Notify();
  v1::Operation done =
      PollUntil(*stub_, started.id(), [](const v1::Operation& op) { return op.done(); });
  EXPECT_EQ(done.error_code(), 0) << done.error_message();
  EXPECT_EQ(done.units_done(), 3);
  EXPECT_EQ(done.last_unit(), "2026-11-29");
  ASSERT_EQ(done.roll_up().days_size(), 3);
  EXPECT_EQ(done.roll_up().days(2).day(), "2026-11-29");
  EXPECT_TRUE(done.has_finished_at());
  absl::MutexLock lock(&backend_.mu);
  backend_.hold_after_first_day = nullptr;
}

TEST_F(AdminServiceTest, StartRollUpWhileAnotherHoldsTheLockEndsAbortedAndSaysSo) {
  {
    absl::MutexLock lock(&backend_.mu);
    backend_.lock_held = true;
  }
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-11-28");
  request.mutable_range()->set_to("2026-11-28");
  v1::Operation started;
  ASSERT_TRUE(stub_->StartRollUp(Context().get(), request, &started).ok());
  v1::Operation done =
      PollUntil(*stub_, started.id(), [](const v1::Operation& op) { return op.done(); });
  EXPECT_EQ(done.error_code(), static_cast<int>(grpc::StatusCode::ABORTED));
  EXPECT_NE(done.error_message().find("holds the lock"), std::string::npos);
  EXPECT_FALSE(done.has_roll_up());
}

TEST_F(AdminServiceTest, StartRollUpWithABadRangeFailsAtOnceNamingTheField) {
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-11-02");
  request.mutable_range()->set_to("2026-11-01");
  v1::Operation started;
  const grpc::Status status = stub_->StartRollUp(Context().get(), request, &started);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("range.to", 0), 0u) << status.error_message();
  absl::MutexLock lock(&backend_.mu);
  EXPECT_EQ(backend_.rollup_calls, 0);
}

TEST_F(AdminServiceTest, StartRepriceEndsWithTheCorrections) {
  v1::RepriceRequest request;
  request.mutable_since()->set_seconds(1'700'000'000);
  request.set_dry_run(true);
  v1::Operation started;
  ASSERT_TRUE(stub_->StartReprice(Context().get(), request, &started).ok());
  EXPECT_EQ(started.kind(), "reprice");
  v1::Operation done =
      PollUntil(*stub_, started.id(), [](const v1::Operation& op) { return op.done(); });
  EXPECT_EQ(done.error_code(), 0);
  EXPECT_TRUE(done.reprice().dry_run());
  EXPECT_EQ(done.reprice().total_delta_nano_usd(), 5 * kUsd);

  request.clear_since();
  const grpc::Status status = stub_->StartReprice(Context().get(), request, &started);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "since: required");
}

v1::WhatIfBudgetRequest SearchCapWhatIf() {
  v1::WhatIfBudgetRequest request;
  v1::Cap* cap = request.add_caps();
  cap->set_scope(v1::SCOPE_TEAM);
  cap->set_key("search");
  cap->set_period(v1::PERIOD_DAILY);
  cap->set_limit_nano_usd(10 * kUsd);  // the third $4 step goes past $10
  return request;
}

TEST_F(AdminServiceTest, StartWhatIfReadsTheHistoryDayByDayAndEndsWithTheReplay) {
  absl::Notification release;
  {
    absl::MutexLock lock(&backend_.mu);
    backend_.hold_history_after_first_read = &release;
  }
  v1::WhatIfBudgetRequest request = SearchCapWhatIf();
  request.set_days(6);
  v1::Operation started;
  ASSERT_TRUE(stub_->StartWhatIf(Context().get(), request, &started).ok());
  EXPECT_EQ(started.kind(), "whatif");
  EXPECT_EQ(started.units_total(), 7);  // six whole days and today so far
  EXPECT_FALSE(started.done());

  v1::Operation half =
      PollUntil(*stub_, started.id(), [](const v1::Operation& op) { return op.units_done() > 0; });
  EXPECT_EQ(half.units_done(), 1);
  EXPECT_EQ(half.last_unit(), DayText(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) - 6));
  EXPECT_FALSE(half.done());

  release.Notify();
  v1::Operation done =
      PollUntil(*stub_, started.id(), [](const v1::Operation& op) { return op.done(); });
  EXPECT_EQ(done.error_code(), 0) << done.error_message();
  EXPECT_EQ(done.units_done(), 7);
  EXPECT_EQ(done.last_unit(), DayText(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())));
  // The same replay as WhatIfBudget's: each step read once.
  const v1::WhatIfBudgetResponse& report = done.what_if();
  EXPECT_EQ(report.days(), 6);
  EXPECT_EQ(report.replayed().steps(), 3);
  EXPECT_EQ(report.replayed().cost_nano_usd(), 12 * kUsd);
  EXPECT_EQ(report.total().require_ack().steps(), 1);
  EXPECT_EQ(report.total().alert().steps(), 1);
  absl::MutexLock lock(&backend_.mu);
  EXPECT_EQ(backend_.history_calls, 7);
  backend_.hold_history_after_first_read = nullptr;
}

TEST_F(AdminServiceTest, StartWhatIfWithBadDaysOrNoCapFailsAtOnceNamingTheField) {
  v1::WhatIfBudgetRequest request = SearchCapWhatIf();
  request.set_days(401);
  v1::Operation started;
  grpc::Status status = stub_->StartWhatIf(Context().get(), request, &started);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "days: must be 1..400");
  request.set_days(0);
  request.clear_caps();
  status = stub_->StartWhatIf(Context().get(), request, &started);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "caps: at least one cap");
  absl::MutexLock lock(&backend_.mu);
  EXPECT_EQ(backend_.history_calls, 0);
}

TEST_F(AdminServiceTest, GetOperationOfAnUnknownIdIsNotFoundNamingIt) {
  v1::GetOperationRequest request;
  request.set_id("0123456789abcdef");
  v1::Operation op;
  const grpc::Status status = stub_->GetOperation(Context().get(), request, &op);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("'0123456789abcdef'"), std::string::npos);
}

TEST(AdminServiceShutdownTest, AServiceGoingAwayEndsARunningRollupAfterItsCurrentDay) {
  FakeBackend backend;
  absl::Notification release;
  {
    absl::MutexLock lock(&backend.mu);
    backend.hold_after_first_day = &release;
  }
  WorkPool pool(2, 8);
  domain::SystemClock clock;
  OperationRegistry operations(clock);
  auto service =
      std::make_unique<AdminService>(backend, stepledger::testing::NoAuth(), pool, operations);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = v1::Admin::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-11-01");
  request.mutable_range()->set_to("2026-11-03");
  v1::Operation started;
  grpc::ClientContext context;
  ASSERT_TRUE(stub->StartRollUp(&context, request, &started).ok());
  PollUntil(*stub, started.id(), [](const v1::Operation& op) { return op.units_done() > 0; });
  server->Shutdown();

  // The destructor asks the rollup to stop and waits for it; the rollup is held after its
  // first day until the destructor has had time to ask.
  std::thread stopper([&service] { service.reset(); });
  absl::SleepFor(absl::Milliseconds(300));
  release.Notify();
  stopper.join();
  absl::MutexLock lock(&backend.mu);
  EXPECT_EQ(backend.last_run_days, 2) << "day 2 was told to stop; day 3 never ran";
}

}  // namespace
}  // namespace stepledger::transport
