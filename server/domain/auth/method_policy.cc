#include "server/domain/auth/method_policy.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace stepledger::domain::auth {
namespace {

// Admin may call everything; its scopes still apply.
constexpr RoleSet kAdmin = Bit(Role::kAdmin);
constexpr RoleSet kIngest = Bit(Role::kIngest) | kAdmin;
constexpr RoleSet kCheck = Bit(Role::kCheck);
constexpr RoleSet kAck = Bit(Role::kAcknowledge);
constexpr RoleSet kBudgetAdmin = Bit(Role::kBudgetAdmin);
constexpr RoleSet kReportRead = Bit(Role::kReportRead);
constexpr RoleSet kPriceAdmin = Bit(Role::kPriceAdmin);

constexpr MethodRule kTable[] = {
    {method::kStreamSteps, kIngest, ScopeRule::kPerEvent},
    {method::kOtlpExport, kIngest, ScopeRule::kPerEvent},
    {method::kGetRun, kReportRead | kAdmin, ScopeRule::kFiltered},
    {method::kCheckBudget, kCheck | kAdmin, ScopeRule::kRequestTags},
    {method::kAcknowledge, kAck | kAdmin, ScopeRule::kCapKey},
    {method::kListAcknowledgements, kAck | kBudgetAdmin | kReportRead | kAdmin,
     ScopeRule::kFiltered},
    {method::kPutBudget, kBudgetAdmin | kAdmin, ScopeRule::kCapKey},
    {method::kListBudgets, kCheck | kAck | kBudgetAdmin | kReportRead | kAdmin,
     ScopeRule::kFiltered},
    {method::kDeleteBudget, kBudgetAdmin | kAdmin, ScopeRule::kCapKey},
    // The second principal of a cap change: the same role and scope as making one (never the
    // same credential, which CapGovernance refuses).
    {method::kApproveBudget, kBudgetAdmin | kAdmin, ScopeRule::kCapKey},
    {method::kListBudgetProposals, kBudgetAdmin | kReportRead | kAdmin, ScopeRule::kFiltered},
    {method::kGetShowback, kReportRead | kAdmin, ScopeRule::kFiltered},
    {method::kRollUp, kAdmin, ScopeRule::kAll},
    {method::kImportInvoice, kPriceAdmin | kAdmin, ScopeRule::kAll},
    {method::kListUnpriced, kPriceAdmin | kReportRead | kAdmin, ScopeRule::kAll},
    {method::kLoadPriceCatalog, kPriceAdmin | kAdmin, ScopeRule::kAll},
    {method::kReprice, kPriceAdmin | kAdmin, ScopeRule::kAll},
    {method::kQuotePrice, kPriceAdmin | kReportRead | kCheck | kAdmin, ScopeRule::kNone},
    {method::kWhatIfBudget, kBudgetAdmin | kReportRead | kAdmin, ScopeRule::kAll},
    // As RollUp, Reprice and WhatIfBudget. GetOperation may be called by any starter; on an
    // operation it also needs that kind's Start roles (the service checks it once it knows
    // the operation's kind), so a report reader polls a what-if but never a rollup.
    {method::kStartRollUp, kAdmin, ScopeRule::kAll},
    {method::kStartReprice, kPriceAdmin | kAdmin, ScopeRule::kAll},
    {method::kStartWhatIf, kBudgetAdmin | kReportRead | kAdmin, ScopeRule::kAll},
    {method::kGetOperation, kPriceAdmin | kBudgetAdmin | kReportRead | kAdmin, ScopeRule::kAll},
    // Who changed prices and invoices: for the price admins and for auditors (report-read).
    {method::kListAdminAudit, kPriceAdmin | kReportRead | kAdmin, ScopeRule::kAll},
    {method::kCreateKey, kAdmin, ScopeRule::kAll},
    {method::kListKeys, kAdmin, ScopeRule::kAll},
    {method::kRotateKey, kAdmin, ScopeRule::kAll},
    {method::kRevokeKey, kAdmin, ScopeRule::kAll},
};

}  // namespace

absl::Span<const MethodRule> MethodTable() { return kTable; }

const MethodRule* FindMethod(std::string_view method) {
  for (const MethodRule& rule : kTable) {
    if (rule.method == method) return &rule;
  }
  return nullptr;
}

absl::Status Permit(const Principal& principal, std::string_view method) {
  const MethodRule* rule = FindMethod(method);
  if (rule == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(std::string(method), " is not open to any credential"));
  }
  if ((principal.roles & rule->roles) == 0) {
    return absl::PermissionDeniedError(absl::StrCat(std::string(method), " needs one of the roles ",
                                                    absl::StrJoin(RoleNames(rule->roles), ", ")));
  }
  if (rule->scope == ScopeRule::kAll && !principal.scopes.all()) {
    return absl::PermissionDeniedError(absl::StrCat(
        std::string(method), " reads or changes every team's data: it needs the \"*\" scope"));
  }
  if (rule->scope != ScopeRule::kNone && principal.scopes.empty()) {
    return absl::PermissionDeniedError("the credential has no scope");
  }
  return absl::OkStatus();
}

}  // namespace stepledger::domain::auth
