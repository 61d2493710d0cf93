// gRPC Admin service (callback API, admin.proto): rollups, invoices, prices and the budget
// what-if, the operations that used to make the CLI a second server (issue 16). Each is
// blocking PostgreSQL work, so every method only schedules onto a WorkPool the collector
// owns; the task converts, calls the backend and the domain, converts, and finishes the RPC.
//
// The data comes through an AdminBackend (in the collector: app::PgAdminBackend over
// storage/ and the catalog loaders), which keeps this library free of SQL and lets tests
// drive the service with a fake.
//
// Thread safety: the service is immutable after construction; the backend's methods must be
// callable from several pool threads at once.
#ifndef STEPLEDGER_SERVER_TRANSPORT_ADMIN_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_ADMIN_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "server/domain/budget/what_if.h"
#include "server/domain/pricing/price_admin.h"
#include "server/domain/pricing/price_book.h"
#include "server/domain/reports/rollup_result.h"
#include "server/domain/reports/showback.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/admin.grpc.pb.h"

namespace stepledger::transport {

// The collector's data as the Admin service needs it. Errors are absl::Status with gRPC's
// codes (Unavailable for a database that cannot be reached, and so on).
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // Rolls up [from, to]; ran == false when another rollup holds the lock. REQUIRES: from <= to.
  virtual absl::StatusOr<domain::reports::RollupRunResult> RollUp(absl::CivilDay from,
                                                                  absl::CivilDay to) = 0;
  // Stores (replaces) each month's invoiced total.
  virtual absl::Status ImportInvoices(const std::vector<domain::reports::Invoice>& invoices,
                                      const std::string& source) = 0;
  // The showback inputs of [from, to] ("" = all environments). REQUIRES: from <= to.
  virtual absl::StatusOr<domain::reports::ShowbackInputs> LoadShowback(
      absl::CivilDay from, absl::CivilDay to, const std::string& environment) = 0;
  virtual absl::StatusOr<std::vector<domain::pricing::UnpricedGroup>> ListUnpriced(
      absl::Time since, absl::Time until) = 0;
  // Stores the texts as a price version in force from `now` (unless unchanged).
  virtual absl::StatusOr<domain::pricing::PriceVersionInfo> SavePriceVersion(
      const domain::pricing::CatalogTexts& texts, absl::Time now) = 0;
  virtual absl::StatusOr<domain::pricing::RepriceReport> Reprice(absl::Time since, absl::Time until,
                                                                 bool dry_run) = 0;
  // The price version in force at `now`, or, when `catalog_text` is not empty, a version
  // loaded from that LiteLLM JSON (id `catalog_source`). NotFound when no version is stored.
  virtual absl::StatusOr<std::shared_ptr<const domain::pricing::PriceVersion>> PriceVersionFor(
      const std::string& catalog_text, const std::string& catalog_source, absl::Time now) = 0;
  // The ledger of [since, until) in `environments` (empty: all), ordered by occurred_at.
  virtual absl::StatusOr<std::vector<domain::budget::HistoricalStep>> LoadBudgetHistory(
      absl::Time since, absl::Time until, const std::vector<domain::Environment>& environments) = 0;
};

class AdminService final : public v1::Admin::CallbackService {
 public:
  // REQUIRES: `backend` and `pool` outlive the service.
  AdminService(AdminBackend& backend, WorkPool& pool);

  grpc::ServerUnaryReactor* RollUp(grpc::CallbackServerContext* context,
                                   const v1::RollUpRequest* request,
                                   v1::RollUpResponse* response) override;
  grpc::ServerUnaryReactor* ImportInvoice(grpc::CallbackServerContext* context,
                                          const v1::ImportInvoiceRequest* request,
                                          v1::ImportInvoiceResponse* response) override;
  grpc::ServerUnaryReactor* ListUnpriced(grpc::CallbackServerContext* context,
                                         const v1::ListUnpricedRequest* request,
                                         v1::ListUnpricedResponse* response) override;
  grpc::ServerUnaryReactor* LoadPriceCatalog(grpc::CallbackServerContext* context,
                                             const v1::LoadPriceCatalogRequest* request,
                                             v1::PriceVersionInfo* response) override;
  grpc::ServerUnaryReactor* Reprice(grpc::CallbackServerContext* context,
                                    const v1::RepriceRequest* request,
                                    v1::RepriceResponse* response) override;
  grpc::ServerUnaryReactor* QuotePrice(grpc::CallbackServerContext* context,
                                       const v1::QuotePriceRequest* request,
                                       v1::QuotePriceResponse* response) override;
  grpc::ServerUnaryReactor* WhatIfBudget(grpc::CallbackServerContext* context,
                                         const v1::WhatIfBudgetRequest* request,
                                         v1::WhatIfBudgetResponse* response) override;

 private:
  // Runs `work` (returning the RPC status) on the pool and finishes the reactor with it.
  grpc::ServerUnaryReactor* OnPool(grpc::CallbackServerContext* context,
                                   std::function<absl::Status()> work);

  AdminBackend& backend_;
  WorkPool& pool_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_ADMIN_SERVICE_H_
