// Authorization end to end (docs/SECURITY.md): a real collector with keys on over TLS, a real
// PostgreSQL. The matrix calls every method with no credential, an invalid
// key, a key of every role (with the "*" scope) and a key of every role scoped to another team,
// and asserts the exact status: UNAUTHENTICATED without a valid credential, PERMISSION_DENIED
// for a valid one without the role or scope, anything else when allowed. The expected table is
// written out here on purpose, apart from domain/auth/method_policy.cc: it is the oracle.
#include <grpcpp/generic/generic_stub.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/lib/credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "stepledger/v1/collector.grpc.pb.h"
#include "stepledger/v1/keys.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using ::testing::HasSubstr;
using testing::TestDatabase;

const std::vector<std::string> kRoles = {
    "ingest", "check", "acknowledge", "budget-admin", "report-read", "price-admin", "admin"};

// How a team-scoped key of an allowed role fares (with a request aimed at another team).
enum class Scoped {
  kDenied,   // PERMISSION_DENIED: the method needs "*", or the request names another team
  kAllowed,  // the scope is applied to the answer (filtered lists, per-event rejection)
};

struct Expected {
  std::string method;
  std::set<std::string> roles;  // admin is allowed everywhere
  Scoped scoped;
};

const std::vector<Expected> kMatrix = {
    {"/stepledger.v1.Collector/StreamSteps", {"ingest"}, Scoped::kAllowed},
    {"/opentelemetry.proto.collector.trace.v1.TraceService/Export", {"ingest"}, Scoped::kAllowed},
    {"/stepledger.v1.Collector/GetRun", {"report-read"}, Scoped::kAllowed},
    {"/stepledger.v1.Budget/CheckBudget", {"check"}, Scoped::kDenied},
    {"/stepledger.v1.Budget/Acknowledge", {"acknowledge"}, Scoped::kDenied},
    {"/stepledger.v1.Budget/ListAcknowledgements",
     {"acknowledge", "budget-admin", "report-read"},
     Scoped::kAllowed},
    {"/stepledger.v1.Budget/PutBudget", {"budget-admin"}, Scoped::kDenied},
    {"/stepledger.v1.Budget/ListBudgets",
     {"check", "acknowledge", "budget-admin", "report-read"},
     Scoped::kAllowed},
    {"/stepledger.v1.Budget/DeleteBudget", {"budget-admin"}, Scoped::kDenied},
    {"/stepledger.v1.Budget/ApproveBudget", {"budget-admin"}, Scoped::kDenied},
    {"/stepledger.v1.Budget/ListBudgetProposals",
     {"budget-admin", "report-read"},
     Scoped::kAllowed},
    {"/stepledger.v1.Reports/GetShowback", {"report-read"}, Scoped::kAllowed},
    {"/stepledger.v1.Admin/RollUp", {}, Scoped::kDenied},
    {"/stepledger.v1.Admin/ImportInvoice", {"price-admin"}, Scoped::kDenied},
    {"/stepledger.v1.Admin/ListUnpriced", {"price-admin", "report-read"}, Scoped::kDenied},
    {"/stepledger.v1.Admin/LoadPriceCatalog", {"price-admin"}, Scoped::kDenied},
    {"/stepledger.v1.Admin/Reprice", {"price-admin"}, Scoped::kDenied},
    {"/stepledger.v1.Admin/QuotePrice", {"price-admin", "report-read", "check"}, Scoped::kAllowed},
    {"/stepledger.v1.Admin/WhatIfBudget", {"budget-admin", "report-read"}, Scoped::kDenied},
    {"/stepledger.v1.Admin/StartRollUp", {}, Scoped::kDenied},
    {"/stepledger.v1.Admin/StartReprice", {"price-admin"}, Scoped::kDenied},
    {"/stepledger.v1.Admin/GetOperation",
     {"price-admin", "budget-admin", "report-read"},
     Scoped::kDenied},
    {"/stepledger.v1.Admin/StartWhatIf", {"budget-admin", "report-read"}, Scoped::kDenied},
    {"/stepledger.v1.Admin/ListAdminAudit", {"price-admin", "report-read"}, Scoped::kDenied},
    {"/stepledger.v1.Keys/CreateKey", {}, Scoped::kDenied},
    {"/stepledger.v1.Keys/ListKeys", {}, Scoped::kDenied},
    {"/stepledger.v1.Keys/RotateKey", {}, Scoped::kDenied},
    {"/stepledger.v1.Keys/RevokeKey", {}, Scoped::kDenied},
};

// A well-formed key token (docs/SECURITY.md): stored only if the collector is told to.
std::string RandomToken() {
  std::random_device rd;
  auto hex = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.push_back("0123456789abcdef"[rd() % 16]);
    return out;
  };
  return "slk_" + hex(16) + "_" + hex(64);
}

v1::Tags Tags(const std::string& team, const std::string& tenant) {
  v1::Tags t;
  t.set_feature("triage");
  t.set_team(team);
  t.set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
  t.set_tenant(tenant);
  t.set_environment(v1::ENVIRONMENT_PRODUCTION);
  t.set_parent_run_id("run-1");
  return t;
}

v1::Cap BillingCap() {
  v1::Cap cap;
  cap.set_id("billing-daily");
  cap.set_scope(v1::SCOPE_TEAM);
  cap.set_key("billing");
  cap.set_period(v1::PERIOD_DAILY);
  cap.set_limit_nano_usd(1'000'000'000);
  cap.set_owner("billing-lead");
  cap.set_signed_off_by("finance");
  return cap;
}

// The request a method gets in the matrix: aimed at team "billing" where the method takes tags
// or a cap, so that a key scoped to team "search" is outside it.
std::string RequestFor(const std::string& method) {
  if (method.ends_with("/CheckBudget")) {
    v1::CheckBudgetRequest r;
    *r.mutable_tags() = Tags("billing", "acme");
    r.set_estimated_cost_nano_usd(1);
    return r.SerializeAsString();
  }
  if (method.ends_with("/PutBudget")) {
    v1::PutBudgetRequest r;
    *r.mutable_cap() = BillingCap();
    r.set_validate_only(true);  // an allowed call changes nothing
    return r.SerializeAsString();
  }
  if (method.ends_with("/DeleteBudget")) {
    v1::DeleteBudgetRequest r;
    r.set_cap_id("billing-daily");  // Call() puts it back before each delete
    return r.SerializeAsString();
  }
  if (method.ends_with("/ApproveBudget")) {
    v1::ApproveBudgetRequest r;
    r.set_cap_id("billing-daily");  // signs off its revision in force (made by the bootstrap
                                    // admin): allowed once, then FAILED_PRECONDITION
    return r.SerializeAsString();
  }
  if (method.ends_with("/Acknowledge")) {
    v1::AcknowledgeRequest r;
    r.set_cap_id("billing-daily");
    r.set_reason("matrix");
    r.set_extra_headroom_nano_usd(1);
    r.mutable_expires_at()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
    return r.SerializeAsString();
  }
  return "";  // every other method gets its empty request
}

class AuthE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    admin_token_ = RandomToken();
    key_file_ = "/tmp/stepledger-auth-e2e-" + std::to_string(getpid()) + ".key";
    std::ofstream(key_file_) << admin_token_ << "\n";
    collector_ = std::make_unique<CollectorProcess>(
        db_.url(), std::vector<std::string>{"--bootstrap-admin-key-file=" + key_file_,
                                            "--key-refresh-interval=200ms"});
    ASSERT_TRUE(collector_->Start()) << collector_->Log();
    channel_ = testing::ChannelWithoutKey(collector_->target());
  }
  void TearDown() override { std::remove(key_file_.c_str()); }

  static void Authorize(grpc::ClientContext& ctx, const std::string& token) {
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  }

  v1::CreateKeyResponse CreateKey(const std::string& name, const std::string& role,
                                  const std::string& scope) {
    auto stub = v1::Keys::NewStub(channel_);
    v1::CreateKeyRequest req;
    req.set_name(name);
    req.add_roles(role);
    req.add_scopes(scope);
    v1::CreateKeyResponse out;
    grpc::ClientContext ctx;
    Authorize(ctx, admin_token_);
    grpc::Status s = stub->CreateKey(&ctx, req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Unary(const std::string& method, const std::string& token) {
    grpc::GenericStub stub(channel_);
    const std::string bytes = RequestFor(method);
    grpc::Slice slice(bytes.data(), bytes.size());
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    Authorize(ctx, token);
    absl::Mutex mu;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      absl::MutexLock lock(&mu);
      status = std::move(s);
      done = true;
    });
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&done));
    return status;
  }

  // Opens StreamSteps, sends `events` (if any) as one batch and returns the stream's status
  // and the ack (when one came).
  std::pair<grpc::Status, v1::BatchAck> Stream(const std::string& token,
                                               const std::vector<v1::StepEvent>& events = {}) {
    auto stub = v1::Collector::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    Authorize(ctx, token);
    auto stream = stub->StreamSteps(&ctx);
    v1::BatchAck ack;
    if (!events.empty()) {
      v1::StepBatch batch;
      batch.set_sequence(1);
      for (const auto& e : events) *batch.add_events() = e;
      if (stream->Write(batch)) stream->Read(&ack);
    }
    stream->WritesDone();
    v1::BatchAck extra;
    while (stream->Read(&extra)) {
    }
    return {stream->Finish(), ack};
  }

  void PutBillingCap() {
    auto budget = v1::Budget::NewStub(channel_);
    v1::PutBudgetRequest req;
    *req.mutable_cap() = BillingCap();
    v1::Cap out;
    grpc::ClientContext ctx;
    Authorize(ctx, admin_token_);
    const grpc::Status s = budget->PutBudget(&ctx, req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Call(const std::string& method, const std::string& token) {
    if (method.ends_with("/StreamSteps")) return Stream(token).first;
    // A delete of the enforced cap is only a proposal, and an approval signs it off: the cap
    // is there (unchanged when it is) for every call.
    if (method.ends_with("/DeleteBudget") || method.ends_with("/ApproveBudget")) PutBillingCap();
    return Unary(method, token);
  }

  TestDatabase db_;
  std::string admin_token_;
  std::string key_file_;
  std::unique_ptr<CollectorProcess> collector_;
  std::shared_ptr<grpc::Channel> channel_;
};

v1::StepEvent Event(const std::string& id, const std::string& team, const std::string& tenant) {
  v1::StepEvent e;
  e.set_event_id(id);
  *e.mutable_tags() = Tags(team, tenant);
  e.set_step_id(id);
  e.set_kind(v1::STEP_KIND_MODEL_CALL);
  e.set_model("gpt-4o");
  e.set_cost_nano_usd(1000);
  e.mutable_started_at()->set_seconds(absl::ToUnixSeconds(absl::Now()) - 1);
  return e;
}

TEST_F(AuthE2eTest, EveryMethodEveryRoleWrongScopeAndNoCredentialGetTheExactStatus) {
  // A cap of team billing, made by the bootstrap admin, for the scoped calls to aim at.
  PutBillingCap();
  std::map<std::string, std::string> all_keys;     // role -> token with scope "*"
  std::map<std::string, std::string> search_keys;  // role -> token with scope team:search
  for (const std::string& role : kRoles) {
    all_keys[role] = CreateKey(role + "-all", role, "*").token();
    search_keys[role] = CreateKey(role + "-search", role, "team:search").token();
  }
  const std::string forged = RandomToken();  // well-formed, never stored

  int calls = 0;
  for (const Expected& row : kMatrix) {
    SCOPED_TRACE(row.method);
    for (const std::string& token : {std::string(), std::string("slk_garbage"), forged}) {
      EXPECT_EQ(Call(row.method, token).error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << "credential \"" << token.substr(0, 8) << "\"";
      ++calls;
    }
    for (const std::string& role : kRoles) {
      SCOPED_TRACE(role);
      const bool allowed = role == "admin" || row.roles.contains(role);
      const grpc::Status with_all = Call(row.method, all_keys[role]);
      const grpc::Status with_search = Call(row.method, search_keys[role]);
      calls += 2;
      if (!allowed) {
        EXPECT_EQ(with_all.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        EXPECT_EQ(with_search.error_code(), grpc::StatusCode::PERMISSION_DENIED);
        continue;
      }
      EXPECT_NE(with_all.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << with_all.error_message();
      EXPECT_NE(with_all.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << with_all.error_message();
      if (row.scoped == Scoped::kDenied) {
        EXPECT_EQ(with_search.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << with_search.error_message();
      } else {
        EXPECT_NE(with_search.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << with_search.error_message();
        EXPECT_NE(with_search.error_code(), grpc::StatusCode::UNAUTHENTICATED);
      }
    }
  }
  EXPECT_EQ(calls, static_cast<int>(kMatrix.size()) * (3 + 2 * 7));

  // Health answers without a credential (probes need it).
  EXPECT_EQ(Unary("/grpc.health.v1.Health/Check", "").error_code(), grpc::StatusCode::OK);

  // A scoped list shows only what the scope names.
  auto budget = v1::Budget::NewStub(channel_);
  v1::ListBudgetsResponse listed;
  grpc::ClientContext ctx;
  Authorize(ctx, search_keys["report-read"]);
  ASSERT_TRUE(budget->ListBudgets(&ctx, v1::ListBudgetsRequest(), &listed).ok());
  EXPECT_EQ(listed.caps_size(), 0) << "team search's key must not see team billing's cap";

  // No token appears in the collector's log.
  const std::string log = collector_->Log();
  EXPECT_EQ(log.find(admin_token_), std::string::npos);
  for (const auto& [role, token] : all_keys) EXPECT_EQ(log.find(token), std::string::npos);
  for (const auto& [role, token] : search_keys) EXPECT_EQ(log.find(token), std::string::npos);
}

TEST_F(AuthE2eTest, ClientLibrarySendsItsKeyOverTls) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = client::CollectorCredentials(
      {.ca_cert_path = testing::TestCaCert(), .api_key = admin_token_});
  ASSERT_TRUE(creds.ok()) << creds.status();
  auto stub = v1::Budget::NewStub(grpc::CreateChannel(collector_->target(), *creds));
  v1::ListBudgetsResponse out;
  grpc::ClientContext ctx;
  const grpc::Status s = stub->ListBudgets(&ctx, v1::ListBudgetsRequest(), &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(AuthE2eTest, IngestKeyForOneTenantHasOtherTenantsEventsRejectedOneByOne) {
  const std::string key = CreateKey("gw-acme", "ingest", "tenant:acme").token();
  const auto [status, ack] =
      Stream(key, {Event("e1", "search", "acme"), Event("e2", "search", "globex"),
                   Event("e3", "billing", "acme")});
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ack.accepted(), 2);
  ASSERT_EQ(ack.rejected_size(), 1);
  EXPECT_EQ(ack.rejected(0).event_id(), "e2");
  EXPECT_EQ(ack.rejected(0).field(), "tags.tenant");
  EXPECT_THAT(ack.rejected(0).reason(), HasSubstr("\"globex\" is outside the credential's scope"));
}

TEST_F(AuthE2eTest, AuditRecordsTheCredentialAndTheTypedNameOnlyAsANote) {
  const std::string key = CreateKey("lead-billing", "budget-admin", "team:billing").token();
  auto budget = v1::Budget::NewStub(channel_);
  v1::PutBudgetRequest req;
  *req.mutable_cap() = BillingCap();
  req.set_changed_by("finance-cfo");
  v1::Cap out;
  grpc::ClientContext ctx;
  Authorize(ctx, key);
  const grpc::Status put = budget->PutBudget(&ctx, req, &out);
  ASSERT_TRUE(put.ok()) << put.error_message();
  pqxx::connection conn(db_.url());
  pqxx::work txn(conn);
  const std::string changed_by =
      txn.exec1("SELECT changed_by FROM budget_audit ORDER BY id DESC LIMIT 1")[0]
          .as<std::string>();
  EXPECT_THAT(changed_by, ::testing::StartsWith("key:lead-billing/"));
  EXPECT_THAT(changed_by, HasSubstr("(note: finance-cfo)"));
}

TEST_F(AuthE2eTest, RevokedKeyIsRefusedOnEveryReplicaWithinTheRefreshInterval) {
  CollectorProcess replica(db_.url(), {"--key-refresh-interval=200ms"});
  ASSERT_TRUE(replica.Start()) << replica.Log();
  auto replica_channel = testing::ChannelWithoutKey(replica.target());
  const v1::CreateKeyResponse created = CreateKey("checker", "check", "*");
  auto check_on_replica = [&] {
    auto stub = v1::Budget::NewStub(replica_channel);
    v1::CheckBudgetRequest req;
    *req.mutable_tags() = Tags("search", "acme");
    v1::CheckBudgetResponse out;
    grpc::ClientContext ctx;
    Authorize(ctx, created.token());
    return stub->CheckBudget(&ctx, req, &out).error_code();
  };
  // The replica learns of the new key within its refresh interval.
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (check_on_replica() != grpc::StatusCode::OK && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_EQ(check_on_replica(), grpc::StatusCode::OK);

  auto keys = v1::Keys::NewStub(channel_);
  v1::RevokeKeyRequest revoke;
  revoke.set_id(created.key().id());
  revoke.set_note("left the company");
  v1::KeyInfo revoked;
  grpc::ClientContext ctx;
  Authorize(ctx, admin_token_);
  ASSERT_TRUE(keys->RevokeKey(&ctx, revoke, &revoked).ok());
  EXPECT_FALSE(revoked.active());
  EXPECT_THAT(revoked.revoked_by(), ::testing::StartsWith("key:bootstrap-admin/"));
  const absl::Time revoked_at = absl::Now();
  while (check_on_replica() != grpc::StatusCode::UNAUTHENTICATED &&
         absl::Now() < revoked_at + absl::Seconds(5)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(check_on_replica(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_LT(absl::Now() - revoked_at, absl::Seconds(2));
}

}  // namespace
}  // namespace stepledger
