// gRPC Admin service (callback API, admin.proto): rollups, invoices, prices and the budget
// what-if, the operations that used to make the CLI a second server (issue 16). Each is
// blocking PostgreSQL work, so every method only schedules onto a WorkPool the collector
// owns; the task converts, calls the backend and the domain, converts, and finishes the RPC.
// The long ones (a rollup over a day range, a reprice) can also run as operations
// (StartRollUp, StartReprice, StartWhatIf): the RPC answers at once with an id, the pool task
// reports its progress and result to an OperationRegistry, and GetOperation reads it from there.
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

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "server/domain/auth/audit.h"
#include "server/domain/budget/what_if.h"
#include "server/domain/clock.h"
#include "server/domain/pricing/price_admin.h"
#include "server/domain/pricing/price_book.h"
#include "server/domain/reports/rollup_result.h"
#include "server/domain/reports/showback.h"
#include "server/transport/authorizer.h"
#include "server/transport/operation_registry.h"
#include "server/transport/reports_convert.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/admin.grpc.pb.h"

namespace stepledger::transport {

// The collector's data as the Admin service needs it. Errors are absl::Status with gRPC's
// codes (Unavailable for a database that cannot be reached, and so on).
class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // Returns false to stop after that day.
  using DayDone = std::function<bool(const domain::reports::RollupDayResult&)>;
  // Rolls up [from, to]; ran == false when another rollup holds the lock. `on_day` (may be
  // empty) is called as each day is done. REQUIRES: from <= to.
  virtual absl::StatusOr<domain::reports::RollupRunResult> RollUp(absl::CivilDay from,
                                                                  absl::CivilDay to,
                                                                  const DayDone& on_day) = 0;
  // Stores (replaces) each month's invoiced total, audited as `actor`, all or nothing.
  virtual absl::Status ImportInvoices(const std::vector<domain::reports::Invoice>& invoices,
                                      const std::string& source,
                                      const domain::auth::AuditActor& actor) = 0;
  // The showback inputs of [from, to] ("" = all environments). REQUIRES: from <= to.
  virtual absl::StatusOr<domain::reports::ShowbackInputs> LoadShowback(
      absl::CivilDay from, absl::CivilDay to, const std::string& environment) = 0;
  virtual absl::StatusOr<std::vector<domain::pricing::UnpricedGroup>> ListUnpriced(
      absl::Time since, absl::Time until) = 0;
  // Stores the texts as a price version in force from `now` (unless unchanged), audited as
  // `actor` in the same transaction.
  virtual absl::StatusOr<domain::pricing::PriceVersionInfo> SavePriceVersion(
      const domain::pricing::CatalogTexts& texts, absl::Time now,
      const domain::auth::AuditActor& actor) = 0;
  // Unless dry_run, the corrections and their audit row (`actor`) commit together.
  virtual absl::StatusOr<domain::pricing::RepriceReport> Reprice(
      absl::Time since, absl::Time until, bool dry_run, const domain::auth::AuditActor& actor) = 0;
  // The newest `limit` admin audit rows, newest first. REQUIRES: limit > 0.
  virtual absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> ListAdminAudit(int limit) = 0;
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
  // `operations` keeps the long operations' state (with a store in the collector, so that
  // every replica answers GetOperation). REQUIRES: all outlive the service.
  AdminService(AdminBackend& backend, const Authorizer& authorizer, WorkPool& pool,
               OperationRegistry& operations);
  // Stops running rollup operations after their current day and waits for every operation
  // task to end (they use the service); a reprice runs to its end.
  ~AdminService() override;

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
  grpc::ServerUnaryReactor* ListAdminAudit(grpc::CallbackServerContext* context,
                                           const v1::ListAdminAuditRequest* request,
                                           v1::ListAdminAuditResponse* response) override;

  grpc::ServerUnaryReactor* StartRollUp(grpc::CallbackServerContext* context,
                                        const v1::RollUpRequest* request,
                                        v1::Operation* response) override;
  grpc::ServerUnaryReactor* StartReprice(grpc::CallbackServerContext* context,
                                         const v1::RepriceRequest* request,
                                         v1::Operation* response) override;
  grpc::ServerUnaryReactor* GetOperation(grpc::CallbackServerContext* context,
                                         const v1::GetOperationRequest* request,
                                         v1::Operation* response) override;
  grpc::ServerUnaryReactor* StartWhatIf(grpc::CallbackServerContext* context,
                                        const v1::WhatIfBudgetRequest* request,
                                        v1::Operation* response) override;

 private:
  // What RollUp and StartRollUp run, and what StartRollUp reports progress with.
  absl::Status RunRollUp(const DayInterval& range, v1::RollUpResponse* response,
                         const AdminBackend::DayDone& on_day);
  absl::Status RunReprice(const v1::RepriceRequest& request, const domain::auth::AuditActor& actor,
                          v1::RepriceResponse* response);
  // A what-if request checked and fixed in time (what WhatIfBudget and StartWhatIf run).
  struct WhatIfPlan {
    std::vector<domain::budget::Cap> caps;
    absl::CivilDay first_day;  // History from 00:00 UTC of this day...
    int days = 0;
    absl::Time until;  // ...until this time.
  };
  static absl::StatusOr<WhatIfPlan> PlanWhatIf(const v1::WhatIfBudgetRequest& request,
                                               absl::Time now);
  // Reads the history and replays it. With `on_day`, reads one day at a time and calls it
  // after each (false: stop, CANCELLED); without, reads the range at once.
  absl::Status RunWhatIf(const WhatIfPlan& plan, v1::WhatIfBudgetResponse* response,
                         const std::function<bool(absl::CivilDay)>& on_day);

  // Registers an operation of `kind` and runs `work` (returning its status and setting the
  // result in the Operation it is given) on the pool, reporting to the registry; answers the
  // registered operation at once.
  grpc::ServerUnaryReactor* StartOperation(
      grpc::CallbackServerContext* context, std::string_view kind, int64_t units_total,
      std::function<absl::Status(const std::string& id, v1::Operation& result)> work,
      v1::Operation* response);

  // Authorizes `method`, then runs `work` (given the caller, returning the RPC status) on the
  // pool and finishes the reactor with it.
  grpc::ServerUnaryReactor* OnPool(
      grpc::CallbackServerContext* context, std::string_view method,
      std::function<absl::Status(const domain::auth::Principal& caller)> work);

  // Counts the tasks that use the service, so that the destructor can wait for them.
  void BeginTask();
  void EndTask();

  AdminBackend& backend_;
  const Authorizer& authorizer_;
  WorkPool& pool_;
  OperationRegistry& operations_;
  std::atomic<bool> stopping_{false};
  absl::Mutex tasks_mu_;
  int running_tasks_ ABSL_GUARDED_BY(tasks_mu_) = 0;  // Operation tasks scheduled, not ended.
  // The operations' short store I/O (recording a start, reading another replica's
  // operation), apart from pool_, whose threads a few long rollups may hold for hours: a
  // start or a poll never waits behind them. Last, so that it stops first.
  WorkPool records_{/*threads=*/1, /*max_queued=*/64};
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_ADMIN_SERVICE_H_
