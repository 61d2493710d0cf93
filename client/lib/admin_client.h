// AdminClient: the Admin service (admin.proto) and Reports.GetShowback, one blocking call per
// method, for the `stepledger` CLI and any other operator tool. Every operation on the data
// (rollups, reports, invoices, prices, what-if) goes through the collector: no client needs
// database credentials.
//
// Each call has a deadline (`timeout`, 10 minutes by default: a rollup of many days or a
// re-pricing of a month is slow on a large ledger). Errors are the RPC's status as
// absl::Status, codes one to one. The long operations (rollup, reprice, what-if) are better started
// and polled (StartRollUp / StartReprice / StartWhatIf, then Wait): no call stays open, and the
// caller sees the progress.
//
// Thread safety: the methods are const and may be called from several threads at once.
#ifndef STEPLEDGER_CLIENT_LIB_ADMIN_CLIENT_H_
#define STEPLEDGER_CLIENT_LIB_ADMIN_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "stepledger/v1/admin.grpc.pb.h"
#include "stepledger/v1/reports.grpc.pb.h"

namespace stepledger::client {

class AdminClient {
 public:
  explicit AdminClient(std::shared_ptr<grpc::ChannelInterface> channel,
                       absl::Duration timeout = absl::Minutes(10));

  absl::StatusOr<v1::RollUpResponse> RollUp(const v1::RollUpRequest& request) const;
  absl::StatusOr<v1::ImportInvoiceResponse> ImportInvoice(
      const v1::ImportInvoiceRequest& request) const;
  absl::StatusOr<v1::ListUnpricedResponse> ListUnpriced(
      const v1::ListUnpricedRequest& request) const;
  absl::StatusOr<v1::PriceVersionInfo> LoadPriceCatalog(
      const v1::LoadPriceCatalogRequest& request) const;
  absl::StatusOr<v1::RepriceResponse> Reprice(const v1::RepriceRequest& request) const;
  absl::StatusOr<v1::ListAdminAuditResponse> ListAdminAudit(
      const v1::ListAdminAuditRequest& request) const;
  absl::StatusOr<v1::QuotePriceResponse> QuotePrice(const v1::QuotePriceRequest& request) const;
  absl::StatusOr<v1::WhatIfBudgetResponse> WhatIfBudget(
      const v1::WhatIfBudgetRequest& request) const;
  absl::StatusOr<v1::ShowbackReport> GetShowback(const v1::ShowbackRequest& request) const;

  absl::StatusOr<v1::Operation> StartRollUp(const v1::RollUpRequest& request) const;
  absl::StatusOr<v1::Operation> StartReprice(const v1::RepriceRequest& request) const;
  absl::StatusOr<v1::Operation> StartWhatIf(const v1::WhatIfBudgetRequest& request) const;
  absl::StatusOr<v1::Operation> GetOperation(const std::string& id) const;
  // Polls `started` every `poll` until it is done, calling `on_poll` (may be empty) with each
  // answer. Returns the done operation, or its error as the status (the code the work ended
  // with, e.g. ABORTED when another rollup held the lock), or GetOperation's error.
  absl::StatusOr<v1::Operation> Wait(v1::Operation started,
                                     const std::function<void(const v1::Operation&)>& on_poll,
                                     absl::Duration poll = absl::Seconds(1)) const;

 private:
  // Calls `method` on `stub` with a fresh context carrying the deadline.
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(Stub& stub,
                                grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&,
                                                             Response*),
                                const Request& request) const;

  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Reports::Stub> reports_;
  const absl::Duration timeout_;
};

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_ADMIN_CLIENT_H_
