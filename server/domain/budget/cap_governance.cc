#include "server/domain/budget/cap_governance.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/domain/budget/cap_change.h"

namespace stepledger::domain::budget {
namespace {

absl::Status SelfApproval(const std::string& what, const std::string& identity) {
  return absl::PermissionDeniedError(
      absl::StrCat(what, " was made by ", identity,
                   ", the credential approving it: a second credential must approve it"));
}

}  // namespace

CapGovernance::CapGovernance(BudgetCoordinator& budgets, CapChangeStore& store, const Clock& clock)
    : budgets_(budgets), store_(store), clock_(clock) {}

absl::Status CapGovernance::Adopt(const std::string& cap_id, const std::optional<Cap>& stored) {
  if (!stored.has_value()) return budgets_.ForgetCap(cap_id);
  return budgets_.AdoptStoredCap(*stored).status();
}

absl::StatusOr<CapChangeOutcome> CapGovernance::Put(Cap cap, const Actor& actor,
                                                    const CapAccess& access) {
  cap = ApplyCapDefaults(std::move(cap));
  if (absl::Status s = ValidateCap(cap); !s.ok()) return s;
  // Whatever the caller typed as signed_off_by never signs a cap off (transport keeps it as a
  // note); revision and author are the store's.
  cap.signed_off_by.clear();
  cap.revision = 0;
  cap.changed_by.clear();
  const std::string id = cap.id;
  return Change(id, std::move(cap), actor, access);
}

absl::StatusOr<CapChangeOutcome> CapGovernance::Delete(const std::string& cap_id,
                                                       const Actor& actor,
                                                       const CapAccess& access) {
  return Change(cap_id, std::nullopt, actor, access);
}

absl::StatusOr<CapChangeOutcome> CapGovernance::Change(const std::string& cap_id,
                                                       std::optional<Cap> after, const Actor& actor,
                                                       const CapAccess& access) {
  if (actor.identity.empty()) return absl::InvalidArgumentError("changed_by: no identity (audit)");
  absl::StatusOr<std::optional<Cap>> before = store_.LoadCap(cap_id);
  if (!before.ok()) return before.status();
  if (!before->has_value() && !after.has_value()) {
    return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", cap_id, "\""));
  }
  // The caller must be allowed both the cap it replaces and the cap it makes.
  if (before->has_value()) {
    if (absl::Status s = access(**before); !s.ok()) return s;
  }
  if (after.has_value()) {
    if (absl::Status s = access(*after); !s.ok()) return s;
  }
  const CapChangeClass change =
      ClassifyCapChange(before->has_value() ? &**before : nullptr, after ? &*after : nullptr);
  const int64_t revision = before->has_value() ? (*before)->revision : 0;
  switch (change.effect) {
    case ChangeEffect::kNone:
      return CapChangeOutcome{*before, std::nullopt};
    case ChangeEffect::kSafe: {
      absl::StatusOr<std::optional<Cap>> stored =
          store_.ApplyChange(cap_id, revision, after, actor, /*signed_off_by=*/"");
      if (!stored.ok()) return stored.status();
      if (absl::Status s = Adopt(cap_id, *stored); !s.ok()) return s;
      return CapChangeOutcome{*std::move(stored), std::nullopt};
    }
    case ChangeEffect::kLoosens:
      break;
  }
  CapProposal proposal;
  proposal.cap_id = cap_id;
  proposal.base_revision = revision;
  proposal.cap = std::move(after);
  proposal.changes = absl::StrJoin(change.changes, "; ");
  proposal.proposed_by = actor.identity;
  proposal.proposed_note = actor.note;
  proposal.expires_at = clock_.Now() + kProposalLifetime;
  absl::StatusOr<CapProposal> stored = store_.Propose(std::move(proposal), actor);
  if (!stored.ok()) return stored.status();
  return CapChangeOutcome{*std::move(before), *std::move(stored)};
}

absl::StatusOr<CapChangeOutcome> CapGovernance::Approve(const Approval& approval,
                                                        const Actor& approver,
                                                        const CapAccess& access) {
  if (approver.identity.empty()) return absl::InvalidArgumentError("approver: no identity");
  absl::StatusOr<std::optional<Cap>> current = store_.LoadCap(approval.cap_id);
  if (!current.ok()) return current.status();
  if (current->has_value()) {
    if (absl::Status s = access(**current); !s.ok()) return s;
  }
  if (approval.proposal_id == 0) {  // the sign-off of the revision in force
    if (!current->has_value()) {
      return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", approval.cap_id, "\""));
    }
    const Cap& cap = **current;
    if (approval.revision != 0 && approval.revision != cap.revision) {
      return absl::FailedPreconditionError(
          absl::StrCat("revision: cap ", cap.id, " is at revision ", cap.revision, ", not ",
                       approval.revision, ": it changed since it was reviewed; review it again"));
    }
    if (!cap.signed_off_by.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("cap ", cap.id, " revision ", cap.revision,
                                                        " is signed off already by ",
                                                        cap.signed_off_by));
    }
    if (cap.changed_by == approver.identity) {
      return SelfApproval(absl::StrCat("cap ", cap.id, " revision ", cap.revision), cap.changed_by);
    }
    absl::StatusOr<Cap> signed_off =
        store_.SignOff(cap.id, cap.revision, approver, approval.reason);
    if (!signed_off.ok()) return signed_off.status();
    if (absl::Status s = Adopt(cap.id, *signed_off); !s.ok()) return s;
    return CapChangeOutcome{*std::move(signed_off), std::nullopt};
  }
  absl::StatusOr<std::optional<CapProposal>> proposal = store_.LoadProposal(approval.proposal_id);
  if (!proposal.ok()) return proposal.status();
  const std::string name = absl::StrCat("proposal ", approval.proposal_id);
  if (!proposal->has_value() || (*proposal)->cap_id != approval.cap_id) {
    return absl::NotFoundError(
        absl::StrCat("proposal_id: no ", name, " for cap \"", approval.cap_id, "\""));
  }
  const CapProposal& p = **proposal;
  if (p.state != "open") {
    return absl::FailedPreconditionError(absl::StrCat(
        name, " of cap ", p.cap_id, " is ", p.state,
        p.state == "superseded" ? " (the cap changed since; review the new state)" : ""));
  }
  if (clock_.Now() >= p.expires_at) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " of cap ", p.cap_id, " expired at ",
                     absl::FormatTime("%Y-%m-%d %H:%M:%SZ", p.expires_at, absl::UTCTimeZone()),
                     "; put the change again"));
  }
  const int64_t now_revision = current->has_value() ? (*current)->revision : 0;
  if (now_revision != p.base_revision) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " is stale: it changes revision ", p.base_revision, " of cap ", p.cap_id,
                     ", which is at revision ", now_revision, " now"));
  }
  if (p.proposed_by == approver.identity) return SelfApproval(name, p.proposed_by);
  if (p.cap.has_value()) {
    if (absl::Status s = access(*p.cap); !s.ok()) return s;
  }
  absl::StatusOr<std::optional<Cap>> applied =
      store_.ApplyProposal(p.id, approver, approval.reason, clock_.Now());
  if (!applied.ok()) return applied.status();
  if (absl::Status s = Adopt(p.cap_id, *applied); !s.ok()) return s;
  return CapChangeOutcome{*std::move(applied), std::nullopt};
}

absl::StatusOr<std::vector<CapProposal>> CapGovernance::OpenProposals(const std::string& cap_id) {
  return store_.ListOpenProposals(cap_id, clock_.Now());
}

absl::StatusOr<std::vector<Cap>> CapGovernance::AwaitingSignOff(const std::string& cap_id) {
  return store_.ListAwaitingSignOff(cap_id);
}

}  // namespace stepledger::domain::budget
