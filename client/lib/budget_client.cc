#include "client/lib/budget_client.h"

#include <utility>

#include "absl/time/clock.h"

namespace stepledger::client {

using stepledger::v1::Budget;

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // absl::StatusCode and grpc::StatusCode share their numeric values by design.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

BudgetClient::BudgetClient(std::shared_ptr<grpc::ChannelInterface> channel,
                           BudgetClientOptions options)
    : stub_(Budget::NewStub(std::move(channel))), options_(options) {}

BudgetClient::BudgetClient(std::unique_ptr<Budget::StubInterface> stub, BudgetClientOptions options)
    : stub_(std::move(stub)), options_(options) {}

void BudgetClient::SetDeadline(grpc::ClientContext& context, absl::Duration timeout) const {
  if (timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
}

absl::StatusOr<CheckOutcome> BudgetClient::Check(
    const stepledger::v1::CheckBudgetRequest& request) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.check_timeout);
  CheckOutcome outcome;
  const grpc::Status status = stub_->CheckBudget(&context, request, &outcome.response);
  if (status.ok()) return outcome;
  const grpc::StatusCode code = status.error_code();
  if (code != grpc::StatusCode::UNAVAILABLE && code != grpc::StatusCode::DEADLINE_EXCEEDED) {
    // The service answered and refused: never turned into a decision.
    return FromGrpcStatus(status);
  }
  outcome.response.Clear();
  outcome.checked = false;
  outcome.unchecked_reason = FromGrpcStatus(status);
  outcome.response.set_decision(options_.on_unavailable == OnUnavailable::kFailOpen
                                    ? stepledger::v1::DECISION_ALLOW
                                    : stepledger::v1::DECISION_REQUIRE_ACK);
  return outcome;
}

absl::StatusOr<stepledger::v1::Cap> BudgetClient::Put(const stepledger::v1::Cap& cap,
                                                      const std::string& changed_by) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::PutBudgetRequest request;
  *request.mutable_cap() = cap;
  request.set_changed_by(changed_by);
  stepledger::v1::Cap stored;
  const grpc::Status status = stub_->PutBudget(&context, request, &stored);
  if (!status.ok()) return FromGrpcStatus(status);
  return stored;
}

absl::StatusOr<stepledger::v1::Cap> BudgetClient::Validate(const stepledger::v1::Cap& cap) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::PutBudgetRequest request;
  *request.mutable_cap() = cap;
  request.set_validate_only(true);
  stepledger::v1::Cap normalized;
  const grpc::Status status = stub_->PutBudget(&context, request, &normalized);
  if (!status.ok()) return FromGrpcStatus(status);
  return normalized;
}

absl::StatusOr<std::vector<stepledger::v1::Cap>> BudgetClient::List() const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::ListBudgetsResponse response;
  const grpc::Status status =
      stub_->ListBudgets(&context, stepledger::v1::ListBudgetsRequest(), &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return std::vector<stepledger::v1::Cap>(response.caps().begin(), response.caps().end());
}

absl::StatusOr<stepledger::v1::DeleteBudgetResponse> BudgetClient::Delete(
    const std::string& cap_id, const std::string& changed_by) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::DeleteBudgetRequest request;
  request.set_cap_id(cap_id);
  request.set_changed_by(changed_by);
  stepledger::v1::DeleteBudgetResponse response;
  const grpc::Status status = stub_->DeleteBudget(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<stepledger::v1::ApproveBudgetResponse> BudgetClient::Approve(
    const stepledger::v1::ApproveBudgetRequest& request) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::ApproveBudgetResponse response;
  const grpc::Status status = stub_->ApproveBudget(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<stepledger::v1::ListBudgetProposalsResponse> BudgetClient::ListProposals(
    const std::string& cap_id) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::ListBudgetProposalsRequest request;
  request.set_cap_id(cap_id);
  stepledger::v1::ListBudgetProposalsResponse response;
  const grpc::Status status = stub_->ListBudgetProposals(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<stepledger::v1::Acknowledgement> BudgetClient::Acknowledge(
    const stepledger::v1::AcknowledgeRequest& request) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::Acknowledgement ack;
  const grpc::Status status = stub_->Acknowledge(&context, request, &ack);
  if (!status.ok()) return FromGrpcStatus(status);
  return ack;
}

absl::StatusOr<std::vector<stepledger::v1::Acknowledgement>> BudgetClient::ListAcknowledgements(
    const std::string& cap_id) const {
  grpc::ClientContext context;
  SetDeadline(context, options_.admin_timeout);
  stepledger::v1::ListAcknowledgementsRequest request;
  request.set_cap_id(cap_id);
  stepledger::v1::ListAcknowledgementsResponse response;
  const grpc::Status status = stub_->ListAcknowledgements(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return std::vector<stepledger::v1::Acknowledgement>(response.acknowledgements().begin(),
                                                      response.acknowledgements().end());
}

}  // namespace stepledger::client
