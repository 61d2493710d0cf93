// `stepledger budget approve` and `stepledger budget pending`: the second credential of the
// sign-off flow (docs/BUDGETS.md, "Sign-off"). The approver is whoever the key (or client
// certificate) in the environment is; the collector refuses the credential that made the change.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/budget_cli.h"
#include "client/cli/budget_file.h"
#include "client/cli/money.h"

namespace stepledger::client::budget_cli {

using stepledger::v1::Cap;

bool SameSettings(const Cap& a, const Cap& b) {
  Cap x = a, y = b;
  for (Cap* c : {&x, &y}) {
    c->clear_signed_off_by();
    c->clear_revision();
    c->clear_proposal_id();
  }
  return google::protobuf::util::MessageDifferencer::Equals(x, y);
}

std::string SignOffText(const Cap& cap) {
  if (cap.shadow()) return "";
  if (!cap.signed_off_by().empty()) return absl::StrCat(", signed off by ", cap.signed_off_by());
  return absl::StrCat(", revision ", cap.revision(),
                      " in force, awaiting sign-off by a second credential");
}

namespace {

std::string ProposalLine(const v1::BudgetProposal& p) {
  return absl::StrCat("proposal ", p.id(), " for cap ", p.cap_id(), " (revision ",
                      p.base_revision(), "): ", p.deletes() ? "delete" : p.changes(),
                      "; proposed by ", p.proposed_by(), ", expires ", TimeText(p.expires_at()));
}

absl::StatusOr<int64_t> PositiveNumber(const Args& a, const std::string& flag) {
  if (!a.Has(flag)) return 0;
  int64_t n = 0;
  if (!absl::SimpleAtoi(a.Get(flag), &n) || n <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": expected a positive number"));
  }
  return n;
}

}  // namespace

int RunApprove(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {"id", "proposal", "revision", "reason"}, {});
  if (!a.ok()) return Usage(context, "approve", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  std::string id = a->Get("id");
  if (id.empty() && a->positional.size() == 1) id = a->positional.front();
  if (id.empty() || a->positional.size() > (a->Has("id") ? 0u : 1u)) {
    return Usage(context, "approve", absl::InvalidArgumentError("expected one cap ID (--id ID)"));
  }
  absl::StatusOr<int64_t> proposal = PositiveNumber(*a, "proposal");
  absl::StatusOr<int64_t> revision = PositiveNumber(*a, "revision");
  if (!proposal.ok()) return Usage(context, "approve", proposal.status());
  if (!revision.ok()) return Usage(context, "approve", revision.status());
  const BudgetClient client = MakeClient(context);
  v1::ApproveBudgetRequest request;
  request.set_cap_id(id);
  request.set_reason(a->Get("reason"));
  request.set_proposal_id(*proposal);
  request.set_revision(*revision);
  if (*proposal == 0 && *revision == 0) {
    // Neither named: the cap's open proposal if it has one, else its revision in force. What
    // is approved is printed, and pinned: a change made meanwhile makes the approval stale.
    absl::StatusOr<v1::ListBudgetProposalsResponse> open = client.ListProposals(id);
    if (!open.ok()) return Fail(context, "approve", open.status());
    if (open->proposals_size() > 0) {
      const v1::BudgetProposal& p = open->proposals(0);
      request.set_proposal_id(p.id());
      context.out << "approving " << ProposalLine(p) << "\n";
    } else if (open->awaiting_sign_off_size() > 0) {
      request.set_revision(open->awaiting_sign_off(0).cap().revision());
      context.out << "signing off cap " << id << " revision " << request.revision() << " (made by "
                  << open->awaiting_sign_off(0).changed_by() << ")\n";
    } else {
      context.err << "stepledger budget approve: cap " << id
                  << " has no open proposal and no revision awaiting sign-off\n";
      return kExitNotFound;
    }
  }
  absl::StatusOr<v1::ApproveBudgetResponse> approved = client.Approve(request);
  if (!approved.ok()) return Fail(context, "approve", approved.status());
  if (approved->deleted()) {
    context.out << "approved: cap " << id << " deleted\n";
  } else {
    const Cap& cap = approved->cap();
    context.out << "approved: cap " << cap.id() << " revision " << cap.revision()
                << " in force, limit " << Dollars(cap.limit_nano_usd()) << ", "
                << ActionName(cap.action()) << ", signed off by " << cap.signed_off_by() << "\n";
  }
  return kExitOk;
}

int RunPending(const CliContext& context, const std::vector<std::string>& args) {
  absl::StatusOr<Args> a = ParseArgs(args, 1, {}, {"json"});
  if (!a.ok()) return Usage(context, "pending", a.status());
  if (a->help) {
    context.out << kUsage;
    return kExitOk;
  }
  if (a->positional.size() > 1) {
    return Usage(context, "pending", absl::InvalidArgumentError("expected at most one cap ID"));
  }
  const std::string id = a->positional.empty() ? "" : a->positional.front();
  absl::StatusOr<v1::ListBudgetProposalsResponse> open = MakeClient(context).ListProposals(id);
  if (!open.ok()) return Fail(context, "pending", open.status());
  if (a->On("json")) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(*open, &json);
    context.out << json << "\n";
    return kExitOk;
  }
  for (const v1::BudgetProposal& p : open->proposals()) {
    context.out << ProposalLine(p) << "\n";
  }
  for (const v1::CapAwaitingSignOff& s : open->awaiting_sign_off()) {
    context.out << "cap " << s.cap().id() << " revision " << s.cap().revision()
                << " in force, awaiting sign-off; made by " << s.changed_by() << "\n";
  }
  context.out << open->proposals_size() << " pending proposal"
              << (open->proposals_size() == 1 ? "" : "s") << ", " << open->awaiting_sign_off_size()
              << " cap" << (open->awaiting_sign_off_size() == 1 ? "" : "s")
              << " awaiting sign-off (approve with: stepledger budget approve --id CAP)\n";
  return kExitOk;
}

}  // namespace stepledger::client::budget_cli
