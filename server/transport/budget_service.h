// gRPC Budget service (callback API). CheckBudget is answered inline: the engine decides in
// memory in about a microsecond, so the reaction never blocks; its request and response live on
// a per-call arena. Administration (caps, acknowledgements) touches PostgreSQL and runs on the
// WorkPool.
#ifndef STEPLEDGER_SERVER_TRANSPORT_BUDGET_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_BUDGET_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "server/domain/budget/budget_coordinator.h"
#include "server/transport/arena_message_allocator.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/budget.grpc.pb.h"

namespace stepledger::transport {

class BudgetService final : public v1::Budget::CallbackService {
 public:
  // REQUIRES: both outlive the service.
  BudgetService(domain::budget::BudgetCoordinator& budgets, WorkPool& pool);

  grpc::ServerUnaryReactor* CheckBudget(grpc::CallbackServerContext* context,
                                        const v1::CheckBudgetRequest* request,
                                        v1::CheckBudgetResponse* response) override;
  grpc::ServerUnaryReactor* Acknowledge(grpc::CallbackServerContext* context,
                                        const v1::AcknowledgeRequest* request,
                                        v1::Acknowledgement* response) override;
  grpc::ServerUnaryReactor* ListAcknowledgements(
      grpc::CallbackServerContext* context, const v1::ListAcknowledgementsRequest* request,
      v1::ListAcknowledgementsResponse* response) override;
  grpc::ServerUnaryReactor* PutBudget(grpc::CallbackServerContext* context,
                                      const v1::PutBudgetRequest* request,
                                      v1::Cap* response) override;
  grpc::ServerUnaryReactor* ListBudgets(grpc::CallbackServerContext* context,
                                        const v1::ListBudgetsRequest* request,
                                        v1::ListBudgetsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteBudget(grpc::CallbackServerContext* context,
                                         const v1::DeleteBudgetRequest* request,
                                         v1::DeleteBudgetResponse* response) override;

 private:
  // Runs `work` (returning the RPC status) on the pool and finishes the reactor with it.
  grpc::ServerUnaryReactor* OnPool(grpc::CallbackServerContext* context,
                                   std::function<absl::Status()> work);

  domain::budget::BudgetCoordinator& budgets_;
  WorkPool& pool_;
  // CheckBudget's messages live on a per-call arena (see arena_message_allocator.h).
  ArenaMessageAllocator<v1::CheckBudgetRequest, v1::CheckBudgetResponse> check_allocator_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_BUDGET_SERVICE_H_
