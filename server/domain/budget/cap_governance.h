// CapGovernance: who may change a cap, and when the change takes effect (docs/BUDGETS.md,
// "Sign-off"). Identities come from credentials (transport passes the caller's), never from
// request fields.
//
//   Put / Delete   the change is classified against the cap as stored (cap_change.h). Safe:
//                  stored at once as a new revision made by the caller, awaiting sign-off
//                  (signed_off_by empty), and enforced by this replica at once (others within
//                  one refresh). Loosening an enforced cap: stored as a proposal only; the cap
//                  in force does not change. A later change to the cap supersedes an open
//                  proposal; a proposal expires after kProposalLifetime.
//   Approve        a second credential (never the one that made the change) applies a
//                  proposal, or signs off the revision in force. The store applies it in one
//                  transaction with the audit rows naming both, and refuses it when the cap
//                  moved past what was reviewed (stale).
//
// Everything is in the CapChangeStore (PostgreSQL), so every replica sees the same proposals.
//
// Thread safety: thread-safe (the store and the coordinator are).
#ifndef STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_GOVERNANCE_H_
#define STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_GOVERNANCE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/domain/auth/audit.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/cap.h"
#include "server/domain/clock.h"

namespace stepledger::domain::budget {

// How long a loosening proposal may wait for its approval. A week covers a weekend and a
// holiday; an older proposal was reviewed against a world that has moved on.
inline constexpr absl::Duration kProposalLifetime = absl::Hours(7 * 24);

// Who acts: the credential's identity (compared for self-approval) and what they typed.
using Actor = auth::AuditActor;

struct CapProposal {
  int64_t id = 0;
  std::string cap_id;
  int64_t base_revision = 0;  // The revision it changes.
  std::optional<Cap> cap;     // The cap as proposed; nullopt: the proposal deletes the cap.
  std::string changes;        // ClassifyCapChange's lines, joined with "; ".
  std::string proposed_by;    // Identity only (self-approval is refused on it).
  std::string proposed_note;  // The proposer's note.
  absl::Time created_at;
  absl::Time expires_at;
  // "open", "approved" or "superseded" (an open one past expires_at is expired).
  std::string state = "open";
};

// Port: PostgreSQL in production (storage/pg_cap_change_store.h). Every write is one
// transaction with its budget_audit rows; each checks the revision it was given under a row
// lock and answers Aborted when the cap moved (a concurrent change), naming the cap.
class CapChangeStore {
 public:
  virtual ~CapChangeStore() = default;
  virtual absl::StatusOr<std::optional<Cap>> LoadCap(const std::string& cap_id) = 0;
  // Stores `after` (nullopt: deletes the cap) over revision `expected_revision` (0: the cap is
  // absent) as the next revision made by `actor`, awaiting sign-off unless `signed_off_by` is
  // set; supersedes the cap's open proposal. Returns the cap as stored (nullopt when deleted).
  virtual absl::StatusOr<std::optional<Cap>> ApplyChange(const std::string& cap_id,
                                                         int64_t expected_revision,
                                                         const std::optional<Cap>& after,
                                                         const Actor& actor,
                                                         const std::string& signed_off_by) = 0;
  // Stores `proposal` (id, state and created_at are the store's) over its base revision,
  // superseding the cap's open proposal; audits it as "propose". Returns it with its id.
  virtual absl::StatusOr<CapProposal> Propose(CapProposal proposal, const Actor& actor) = 0;
  virtual absl::StatusOr<std::optional<CapProposal>> LoadProposal(int64_t id) = 0;
  // Open proposals not expired at `now` (cap_id empty: of every cap), oldest first.
  virtual absl::StatusOr<std::vector<CapProposal>> ListOpenProposals(const std::string& cap_id,
                                                                     absl::Time now) = 0;
  // Enforced caps whose revision in force awaits sign-off (cap_id empty: every cap).
  virtual absl::StatusOr<std::vector<Cap>> ListAwaitingSignOff(const std::string& cap_id) = 0;
  // Applies open proposal `id` if, under the locks, it is still open, unexpired at `now` and
  // its base revision is the cap's: the cap becomes the next revision made by the proposer and
  // signed off by `approver`; the proposal is marked approved; audited with both identities.
  // FailedPrecondition naming the proposal otherwise. Returns the cap (nullopt when deleted).
  virtual absl::StatusOr<std::optional<Cap>> ApplyProposal(int64_t id, const Actor& approver,
                                                           const std::string& reason,
                                                           absl::Time now) = 0;
  // Signs off revision `revision` of the cap if it is still the one in force and unsigned.
  virtual absl::StatusOr<Cap> SignOff(const std::string& cap_id, int64_t revision,
                                      const Actor& approver, const std::string& reason) = 0;
};

struct CapChangeOutcome {
  // The cap in force after the call (nullopt: deleted, or there was none).
  std::optional<Cap> in_force;
  // Set when the change waits for approval (then `in_force` is the unchanged cap).
  std::optional<CapProposal> proposal;
};

struct Approval {
  std::string cap_id;
  int64_t proposal_id = 0;  // 0: sign off the revision in force
  int64_t revision = 0;     // with proposal_id 0: the revision reviewed (0: the one in force)
  std::string reason;
};

// The caller's scopes: OK when the credential may change `cap` (transport's scope rule).
using CapAccess = std::function<absl::Status(const Cap& cap)>;

class CapGovernance {
 public:
  // REQUIRES: all outlive this object.
  CapGovernance(BudgetCoordinator& budgets, CapChangeStore& store, const Clock& clock);

  // `access` is asked for the cap as stored and as it will be.
  absl::StatusOr<CapChangeOutcome> Put(Cap cap, const Actor& actor, const CapAccess& access);
  absl::StatusOr<CapChangeOutcome> Delete(const std::string& cap_id, const Actor& actor,
                                          const CapAccess& access);
  absl::StatusOr<CapChangeOutcome> Approve(const Approval& approval, const Actor& approver,
                                           const CapAccess& access);
  absl::StatusOr<std::vector<CapProposal>> OpenProposals(const std::string& cap_id);
  absl::StatusOr<std::vector<Cap>> AwaitingSignOff(const std::string& cap_id);

 private:
  // Makes this replica's engine enforce what the store now holds for `cap_id`.
  absl::Status Adopt(const std::string& cap_id, const std::optional<Cap>& stored);
  absl::StatusOr<CapChangeOutcome> Change(const std::string& cap_id, std::optional<Cap> after,
                                          const Actor& actor, const CapAccess& access);

  BudgetCoordinator& budgets_;
  CapChangeStore& store_;
  const Clock& clock_;
};

}  // namespace stepledger::domain::budget

#endif  // STEPLEDGER_SERVER_DOMAIN_BUDGET_CAP_GOVERNANCE_H_
