// BudgetClient: a thin synchronous wrapper over the Budget service (budget.proto): CheckBudget
// before an expensive step, caps as data (Put/List/Delete), and acknowledgements.
//
// Every method returns an absl::Status(Or) whose code is the RPC's gRPC code, one to one
// (INVALID_ARGUMENT naming the field, NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED, ...), so
// callers can tell "the check was refused" from "could not ask".
//
// Unreachable service: fail open or fail closed is the CALLER'S EXPLICIT CHOICE.
//   When CheckBudget cannot reach the service (UNAVAILABLE, or DEADLINE_EXCEEDED: no answer in
//   time) Check() does not return that error; it returns a CheckOutcome with checked = false
//   and a decision chosen by BudgetClientOptions::on_unavailable:
//     kFailClosed (the default): DECISION_REQUIRE_ACK, i.e. "deny: ask a human". Nothing spends
//                                unchecked; an outage of the budget service stops agents.
//     kFailOpen:                 DECISION_ALLOW. Agents keep running through an outage; the
//                                spend is still recorded by the ledger afterwards.
//   `checked = false` and `unchecked_reason` always say that no cap was consulted, whatever was
//   chosen, so the caller can log or count it. Every other error (a malformed check is
//   INVALID_ARGUMENT, ALREADY_EXISTS for a re-reserve of a settled step, ...) is returned as an
//   error: a check the service refused is never turned into an ALLOW.
//
// Thread safety: thread-safe; gRPC stubs may be used concurrently, and the client holds no
// other mutable state. Share one BudgetClient (and its channel) among an agent's threads.
#ifndef STEPLEDGER_CLIENT_LIB_BUDGET_CLIENT_H_
#define STEPLEDGER_CLIENT_LIB_BUDGET_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "stepledger/v1/budget.grpc.pb.h"

namespace stepledger::client {

// What Check() answers when the Budget service cannot be reached. See the header comment.
enum class OnUnavailable { kFailClosed, kFailOpen };

struct BudgetClientOptions {
  OnUnavailable on_unavailable = OnUnavailable::kFailClosed;
  // Deadline of one CheckBudget call. The decision itself takes microseconds; this bounds how
  // long an agent waits on a sick service before on_unavailable applies.
  absl::Duration check_timeout = absl::Seconds(2);
  // Deadline of the administrative calls (Put, List, Delete, Acknowledge, ...).
  absl::Duration admin_timeout = absl::Seconds(30);
};

struct CheckOutcome {
  // The service's answer; when !checked, only `decision` is set (by on_unavailable).
  stepledger::v1::CheckBudgetResponse response;
  // False when the service was unreachable and the decision comes from on_unavailable.
  bool checked = true;
  // Why the check did not happen (UNAVAILABLE or DEADLINE_EXCEEDED); OK when checked.
  absl::Status unchecked_reason;

  stepledger::v1::Decision decision() const { return response.decision(); }
};

// The gRPC status as an absl::Status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

class BudgetClient {
 public:
  // Uses `channel` (see MakeCollectorChannel in step_stream_client.h).
  explicit BudgetClient(std::shared_ptr<grpc::ChannelInterface> channel,
                        BudgetClientOptions options = {});
  // Uses `stub` (tests inject a mock or an in-process stub).
  explicit BudgetClient(std::unique_ptr<stepledger::v1::Budget::StubInterface> stub,
                        BudgetClientOptions options = {});

  // CheckBudget. Unreachable service: see the header comment (never an error). Any other RPC
  // failure is returned with its code.
  absl::StatusOr<CheckOutcome> Check(const stepledger::v1::CheckBudgetRequest& request) const;

  // PutBudget: creates or replaces the cap with cap.id(); returns the stored cap (defaults
  // filled in by the service). `changed_by` is audited and required.
  absl::StatusOr<stepledger::v1::Cap> Put(const stepledger::v1::Cap& cap,
                                          const std::string& changed_by) const;
  // PutBudget with validate_only: the cap as the service would store it (defaults filled in),
  // or INVALID_ARGUMENT naming the field. Stores nothing. The one home of the cap rules is the
  // service: the client never applies defaults or validates a cap itself.
  absl::StatusOr<stepledger::v1::Cap> Validate(const stepledger::v1::Cap& cap) const;
  absl::StatusOr<std::vector<stepledger::v1::Cap>> List() const;
  // NOT_FOUND when there is no such cap. The answer's proposal_id is non-zero when the cap is
  // enforced: the delete then waits for a second credential's approval (docs/BUDGETS.md).
  absl::StatusOr<stepledger::v1::DeleteBudgetResponse> Delete(const std::string& cap_id,
                                                              const std::string& changed_by) const;
  // ApproveBudget: as a second credential, applies a loosening proposal or signs off a cap's
  // revision in force.
  absl::StatusOr<stepledger::v1::ApproveBudgetResponse> Approve(
      const stepledger::v1::ApproveBudgetRequest& request) const;
  // ListBudgetProposals: open loosening proposals and caps awaiting sign-off (of `cap_id`, or
  // of every cap when empty).
  absl::StatusOr<stepledger::v1::ListBudgetProposalsResponse> ListProposals(
      const std::string& cap_id = "") const;

  absl::StatusOr<stepledger::v1::Acknowledgement> Acknowledge(
      const stepledger::v1::AcknowledgeRequest& request) const;
  // Every acknowledgement of `cap_id`, or of every cap when empty.
  absl::StatusOr<std::vector<stepledger::v1::Acknowledgement>> ListAcknowledgements(
      const std::string& cap_id = "") const;

  const BudgetClientOptions& options() const { return options_; }

 private:
  void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) const;

  std::unique_ptr<stepledger::v1::Budget::StubInterface> stub_;
  BudgetClientOptions options_;
};

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_BUDGET_CLIENT_H_
