#include "client/lib/admin_client.h"

#include <utility>

#include "absl/time/clock.h"
#include "client/lib/budget_client.h"

namespace stepledger::client {

AdminClient::AdminClient(std::shared_ptr<grpc::ChannelInterface> channel, absl::Duration timeout)
    : admin_(v1::Admin::NewStub(channel)),
      reports_(v1::Reports::NewStub(channel)),
      timeout_(timeout) {}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> AdminClient::Call(Stub& stub,
                                           grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                        const Request&, Response*),
                                           const Request& request) const {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  Response response;
  const grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::RollUpResponse> AdminClient::RollUp(const v1::RollUpRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::RollUp, request);
}

absl::StatusOr<v1::ImportInvoiceResponse> AdminClient::ImportInvoice(
    const v1::ImportInvoiceRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::ImportInvoice, request);
}

absl::StatusOr<v1::ListAdminAuditResponse> AdminClient::ListAdminAudit(
    const v1::ListAdminAuditRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::ListAdminAudit, request);
}

absl::StatusOr<v1::ListUnpricedResponse> AdminClient::ListUnpriced(
    const v1::ListUnpricedRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::ListUnpriced, request);
}

absl::StatusOr<v1::PriceVersionInfo> AdminClient::LoadPriceCatalog(
    const v1::LoadPriceCatalogRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::LoadPriceCatalog, request);
}

absl::StatusOr<v1::RepriceResponse> AdminClient::Reprice(const v1::RepriceRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::Reprice, request);
}

absl::StatusOr<v1::QuotePriceResponse> AdminClient::QuotePrice(
    const v1::QuotePriceRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::QuotePrice, request);
}

absl::StatusOr<v1::WhatIfBudgetResponse> AdminClient::WhatIfBudget(
    const v1::WhatIfBudgetRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::WhatIfBudget, request);
}

absl::StatusOr<v1::ShowbackReport> AdminClient::GetShowback(
    const v1::ShowbackRequest& request) const {
  return Call(*reports_, &v1::Reports::Stub::GetShowback, request);
}

absl::StatusOr<v1::Operation> AdminClient::StartRollUp(const v1::RollUpRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::StartRollUp, request);
}

absl::StatusOr<v1::Operation> AdminClient::StartReprice(const v1::RepriceRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::StartReprice, request);
}

absl::StatusOr<v1::Operation> AdminClient::StartWhatIf(
    const v1::WhatIfBudgetRequest& request) const {
  return Call(*admin_, &v1::Admin::Stub::StartWhatIf, request);
}

absl::StatusOr<v1::Operation> AdminClient::GetOperation(const std::string& id) const {
  v1::GetOperationRequest request;
  request.set_id(id);
  return Call(*admin_, &v1::Admin::Stub::GetOperation, request);
}

absl::StatusOr<v1::Operation> AdminClient::Wait(
    v1::Operation started, const std::function<void(const v1::Operation&)>& on_poll,
    absl::Duration poll) const {
  v1::Operation op = std::move(started);
  while (!op.done()) {
    absl::SleepFor(poll);
    absl::StatusOr<v1::Operation> next = GetOperation(op.id());
    if (!next.ok()) return next.status();
    op = *std::move(next);
    if (on_poll) on_poll(op);
  }
  if (op.error_code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(op.error_code()), op.error_message());
  }
  return op;
}

}  // namespace stepledger::client
