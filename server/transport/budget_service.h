// gRPC Budget service (callback API). CheckBudget is answered inline: the engine decides in
// memory in about a microsecond, so the reaction never blocks. It is registered as a raw
// method: its request is parsed on a stack arena and its response bytes are written straight
// from the decision (check_response_encoding.h), the same bytes protobuf would produce, without
// building the message first. Administration (caps, acknowledgements) touches PostgreSQL and
// runs on the WorkPool.
#ifndef STEPLEDGER_SERVER_TRANSPORT_BUDGET_SERVICE_H_
#define STEPLEDGER_SERVER_TRANSPORT_BUDGET_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/cap_governance.h"
#include "server/transport/authorizer.h"
#include "server/transport/work_pool.h"
#include "stepledger/v1/budget.grpc.pb.h"

namespace stepledger::transport {

class BudgetService final
    : public v1::Budget::WithRawCallbackMethod_CheckBudget<v1::Budget::CallbackService> {
 public:
  // REQUIRES: all outlive the service. Without `governance` cap changes (PutBudget without
  // validate_only, DeleteBudget, ApproveBudget, ListBudgetProposals) answer UNIMPLEMENTED.
  BudgetService(domain::budget::BudgetCoordinator& budgets, const Authorizer& authorizer,
                WorkPool& pool, domain::budget::CapGovernance* governance = nullptr);

  // The wire form of CheckBudget(CheckBudgetRequest) returns (CheckBudgetResponse).
  grpc::ServerUnaryReactor* CheckBudget(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
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
  grpc::ServerUnaryReactor* ApproveBudget(grpc::CallbackServerContext* context,
                                          const v1::ApproveBudgetRequest* request,
                                          v1::ApproveBudgetResponse* response) override;
  grpc::ServerUnaryReactor* ListBudgetProposals(grpc::CallbackServerContext* context,
                                                const v1::ListBudgetProposalsRequest* request,
                                                v1::ListBudgetProposalsResponse* response) override;

 private:
  // Authorizes `method`, then runs `work` (returning the RPC status) on the pool and finishes
  // the reactor with it.
  grpc::ServerUnaryReactor* OnPool(
      grpc::CallbackServerContext* context, std::string_view method,
      std::function<absl::Status(const domain::auth::Principal&)> work);

  // CheckBudget's work: parse, check the tags are in the caller's scope, decide, encode. Never
  // OK without a response.
  grpc::Status Check(const domain::auth::Principal& caller, const grpc::ByteBuffer& request_bytes,
                     grpc::ByteBuffer* response_bytes);
  // PermissionDenied unless `caller`'s scopes cover the cap `cap_id` (when it exists).
  absl::Status CheckCapAccess(const domain::auth::Principal& caller, const std::string& cap_id);

  domain::budget::BudgetCoordinator& budgets_;
  const Authorizer& authorizer_;
  WorkPool& pool_;
  domain::budget::CapGovernance* const governance_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_BUDGET_SERVICE_H_
