// Extra API keys for e2e tests, made through the Keys service as the test's admin
// (TestAdminKey), and the second credential of the cap sign-off flow (docs/BUDGETS.md,
// "Sign-off"): a test that loosens or deletes an enforced cap has it approved by another key
// with ApproveAllAs, as an operator's colleague would. Channels take TLS and client
// certificates from the environment like every client-library channel, with the key swapped.
#ifndef STEPLEDGER_TESTS_FAKES_TEST_KEYS_H_
#define STEPLEDGER_TESTS_FAKES_TEST_KEYS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/lib/credentials.h"
#include "client/lib/step_stream_client.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "stepledger/v1/keys.grpc.pb.h"

namespace stepledger::testing {

struct TestKey {
  std::string token;
  std::string identity;                    // what audit rows record: "key:<name>/<id>"
  std::shared_ptr<grpc::Channel> channel;  // authenticates with this key
};

// A channel to `target` that sends `token` instead of the environment's key.
inline std::shared_ptr<grpc::Channel> ChannelWithKey(const std::string& target,
                                                     const std::string& token) {
  absl::StatusOr<client::ConnectionOptions> options = client::ConnectionOptionsFromEnvironment();
  client::ConnectionOptions o = options.ok() ? *options : client::ConnectionOptions{};
  o.api_key = token;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = client::CollectorCredentials(o);
  if (!creds.ok()) return nullptr;
  return grpc::CreateChannel(target, *creds);
}

// Creates a key (admin's channel from the environment) and waits until the collector accepts
// it (keys reach the key ring within --key-refresh-interval). Empty token on failure.
inline TestKey CreateTestKey(const std::string& target, const std::string& name,
                             const std::vector<std::string>& roles, const std::string& scope) {
  TestKey key;
  auto keys = v1::Keys::NewStub(client::MakeCollectorChannel(target));
  v1::CreateKeyRequest req;
  req.set_name(name);
  for (const std::string& r : roles) req.add_roles(r);
  req.add_scopes(scope);
  v1::CreateKeyResponse out;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!keys->CreateKey(&ctx, req, &out).ok()) return key;
  key.token = out.token();
  key.identity = absl::StrCat("key:", name, "/", out.key().id());
  key.channel = ChannelWithKey(target, key.token);
  if (key.channel == nullptr) return {};
  // Known once any answer but UNAUTHENTICATED comes (a role without ListBudgets gets
  // PERMISSION_DENIED, which is fine here).
  auto budget = v1::Budget::NewStub(key.channel);
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext probe;
    probe.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListBudgetsResponse listed;
    if (budget->ListBudgets(&probe, v1::ListBudgetsRequest(), &listed).error_code() !=
        grpc::StatusCode::UNAUTHENTICATED) {
      return key;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

// A budget-admin key for every scope: the second credential of the sign-off flow.
inline TestKey CreateApproverKey(const std::string& target) {
  return CreateTestKey(target, "e2e-approver", {"budget-admin"}, "*");
}

// As `approver`: applies the open proposal of `cap_id` (if any), then signs off its revision
// in force (if it awaits a sign-off). OK when there was nothing to approve.
inline absl::Status ApproveAllAs(const TestKey& approver, const std::string& cap_id) {
  auto budget = v1::Budget::NewStub(approver.channel);
  for (int round = 0; round < 2; ++round) {
    v1::ListBudgetProposalsRequest list;
    list.set_cap_id(cap_id);
    v1::ListBudgetProposalsResponse open;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status s = budget->ListBudgetProposals(&ctx, list, &open);
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
    v1::ApproveBudgetRequest approve;
    approve.set_cap_id(cap_id);
    approve.set_reason("e2e second credential");
    if (open.proposals_size() > 0) {
      approve.set_proposal_id(open.proposals(0).id());
    } else if (open.awaiting_sign_off_size() > 0) {
      approve.set_revision(open.awaiting_sign_off(0).cap().revision());
    } else {
      return absl::OkStatus();
    }
    v1::ApproveBudgetResponse approved;
    grpc::ClientContext actx;
    actx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    s = budget->ApproveBudget(&actx, approve, &approved);
    if (!s.ok())
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return absl::OkStatus();
}

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_TEST_KEYS_H_
