#include "server/domain/auth/method_policy.h"

#include <google/protobuf/descriptor.h>

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "stepledger/v1/admin.grpc.pb.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "stepledger/v1/collector.grpc.pb.h"
#include "stepledger/v1/keys.grpc.pb.h"
#include "stepledger/v1/reports.grpc.pb.h"

namespace stepledger::domain::auth {
namespace {

using ::testing::HasSubstr;

Principal With(RoleSet roles, std::vector<std::string> scopes) {
  return Principal{
      .key_id = "0123456789abcdef", .name = "t", .roles = roles, .scopes = *Scopes::Parse(scopes)};
}

// Every method of every service the collector serves (read from the compiled protos, so a new
// RPC cannot be forgotten) has exactly one row, and the table names nothing else.
TEST(MethodPolicyTest, TheTableHasEveryServedMethodAndNothingElse) {
  std::set<std::string> served;
  // One message of each API file: its file descriptor lists the file's services.
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  for (const google::protobuf::Descriptor* message :
       {v1::GetRunRequest::descriptor(), v1::CheckBudgetRequest::descriptor(),
        v1::ShowbackRequest::descriptor(), v1::RollUpRequest::descriptor(),
        v1::CreateKeyRequest::descriptor(),
        opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest::descriptor()}) {
    for (int s = 0; s < message->file()->service_count(); ++s) {
      services.push_back(message->file()->service(s));
    }
  }
  ASSERT_EQ(services.size(), 6u);
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      served.insert("/" + service->full_name() + "/" + service->method(i)->name());
    }
  }
  std::set<std::string> table;
  for (const MethodRule& rule : MethodTable()) {
    EXPECT_TRUE(table.insert(std::string(rule.method)).second) << rule.method << " twice";
    EXPECT_NE(rule.roles, 0u) << rule.method;
  }
  EXPECT_EQ(table, served);
}

TEST(MethodPolicyTest, UnknownMethodsAreDenied) {
  const Principal admin = With(Bit(Role::kAdmin), {"*"});
  EXPECT_TRUE(absl::IsPermissionDenied(Permit(admin, "/stepledger.v1.Budget/Nope")));
  EXPECT_TRUE(absl::IsPermissionDenied(Permit(admin, "")));
}

TEST(MethodPolicyTest, RolesGateMethods) {
  const Principal check = With(Bit(Role::kCheck), {"team:search"});
  EXPECT_TRUE(Permit(check, method::kCheckBudget).ok());
  const absl::Status put = Permit(check, method::kPutBudget);
  EXPECT_TRUE(absl::IsPermissionDenied(put));
  EXPECT_THAT(std::string(put.message()), HasSubstr("budget-admin"));
  EXPECT_TRUE(absl::IsPermissionDenied(Permit(check, method::kStreamSteps)));
  EXPECT_TRUE(absl::IsPermissionDenied(Permit(check, method::kCreateKey)));
}

TEST(MethodPolicyTest, CrossTeamMethodsNeedTheStarScope) {
  const Principal scoped = With(Bit(Role::kPriceAdmin) | Bit(Role::kAdmin), {"team:search"});
  EXPECT_TRUE(absl::IsPermissionDenied(Permit(scoped, method::kReprice)));
  EXPECT_TRUE(absl::IsPermissionDenied(Permit(scoped, method::kCreateKey)));
  const Principal all = With(Bit(Role::kPriceAdmin), {"*"});
  EXPECT_TRUE(Permit(all, method::kReprice).ok());
}

TEST(MethodPolicyTest, AdminMayCallEveryMethod) {
  const Principal admin = With(Bit(Role::kAdmin), {"*"});
  for (const MethodRule& rule : MethodTable()) {
    EXPECT_TRUE(Permit(admin, rule.method).ok()) << rule.method;
  }
}

}  // namespace
}  // namespace stepledger::domain::auth
