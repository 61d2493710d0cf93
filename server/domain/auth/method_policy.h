// The role x method table (docs/SECURITY.md, "Roles"): every RPC the collector serves, the
// roles that may call it, and how the credential's scopes apply to it. It is the only place
// that says who may call what; a method that is not in it is denied (deny by default).
// grpc.health.v1.Health is not in it: it is served without a credential (probes need it).
#ifndef STEPLEDGER_SERVER_DOMAIN_AUTH_METHOD_POLICY_H_
#define STEPLEDGER_SERVER_DOMAIN_AUTH_METHOD_POLICY_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "server/domain/auth/principal.h"
#include "server/domain/auth/role.h"

namespace stepledger::domain::auth {

enum class ScopeRule {
  kNone,         // The role is enough (the method reads nothing scoped).
  kPerEvent,     // Each written step must be in scope; the others are rejected one by one.
  kRequestTags,  // The request's tags must be in scope.
  kCapKey,       // The cap's scope and key must be covered (org caps: "*").
  kFiltered,     // Answers hold only what the scopes may see.
  kAll,          // Crosses every team: needs the "*" scope.
};

struct MethodRule {
  std::string_view method;  // gRPC path, "/package.Service/Method"
  RoleSet roles;
  ScopeRule scope;
};

absl::Span<const MethodRule> MethodTable();
const MethodRule* FindMethod(std::string_view method);

// PermissionDenied saying what is missing, when `principal` may not call `method` at all
// (an unknown method, a role it lacks, a kAll method without "*", or no scope). Per-request
// scope checks (kPerEvent, kRequestTags, kCapKey, kFiltered) are the caller's, after this.
absl::Status Permit(const Principal& principal, std::string_view method);

// The gRPC paths, for the services that pass theirs to Permit.
namespace method {
inline constexpr std::string_view kStreamSteps = "/stepledger.v1.Collector/StreamSteps";
inline constexpr std::string_view kGetRun = "/stepledger.v1.Collector/GetRun";
inline constexpr std::string_view kOtlpExport =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
inline constexpr std::string_view kCheckBudget = "/stepledger.v1.Budget/CheckBudget";
inline constexpr std::string_view kAcknowledge = "/stepledger.v1.Budget/Acknowledge";
inline constexpr std::string_view kListAcknowledgements =
    "/stepledger.v1.Budget/ListAcknowledgements";
inline constexpr std::string_view kPutBudget = "/stepledger.v1.Budget/PutBudget";
inline constexpr std::string_view kListBudgets = "/stepledger.v1.Budget/ListBudgets";
inline constexpr std::string_view kDeleteBudget = "/stepledger.v1.Budget/DeleteBudget";
inline constexpr std::string_view kApproveBudget = "/stepledger.v1.Budget/ApproveBudget";
inline constexpr std::string_view kListBudgetProposals =
    "/stepledger.v1.Budget/ListBudgetProposals";
inline constexpr std::string_view kGetShowback = "/stepledger.v1.Reports/GetShowback";
inline constexpr std::string_view kRollUp = "/stepledger.v1.Admin/RollUp";
inline constexpr std::string_view kImportInvoice = "/stepledger.v1.Admin/ImportInvoice";
inline constexpr std::string_view kListUnpriced = "/stepledger.v1.Admin/ListUnpriced";
inline constexpr std::string_view kLoadPriceCatalog = "/stepledger.v1.Admin/LoadPriceCatalog";
inline constexpr std::string_view kReprice = "/stepledger.v1.Admin/Reprice";
inline constexpr std::string_view kQuotePrice = "/stepledger.v1.Admin/QuotePrice";
inline constexpr std::string_view kWhatIfBudget = "/stepledger.v1.Admin/WhatIfBudget";
inline constexpr std::string_view kStartRollUp = "/stepledger.v1.Admin/StartRollUp";
inline constexpr std::string_view kStartReprice = "/stepledger.v1.Admin/StartReprice";
inline constexpr std::string_view kGetOperation = "/stepledger.v1.Admin/GetOperation";
inline constexpr std::string_view kStartWhatIf = "/stepledger.v1.Admin/StartWhatIf";
inline constexpr std::string_view kListAdminAudit = "/stepledger.v1.Admin/ListAdminAudit";
inline constexpr std::string_view kCreateKey = "/stepledger.v1.Keys/CreateKey";
inline constexpr std::string_view kListKeys = "/stepledger.v1.Keys/ListKeys";
inline constexpr std::string_view kRotateKey = "/stepledger.v1.Keys/RotateKey";
inline constexpr std::string_view kRevokeKey = "/stepledger.v1.Keys/RevokeKey";
}  // namespace method

}  // namespace stepledger::domain::auth

#endif  // STEPLEDGER_SERVER_DOMAIN_AUTH_METHOD_POLICY_H_
