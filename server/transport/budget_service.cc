#include "server/transport/budget_service.h"

#include "server/transport/budget_convert.h"
#include "server/transport/status_convert.h"

namespace stepledger::transport {

BudgetService::BudgetService(domain::budget::BudgetCoordinator& budgets, WorkPool& pool)
    : budgets_(budgets), pool_(pool) {
  SetMessageAllocatorFor_CheckBudget(&check_allocator_);
}

grpc::ServerUnaryReactor* BudgetService::OnPool(grpc::CallbackServerContext* context,
                                                std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (!pool_.TrySchedule([reactor, work = std::move(work)] {
        reactor->Finish(ToGrpcStatus(work()));
      })) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many budget administration calls queued; retry"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* BudgetService::CheckBudget(grpc::CallbackServerContext* context,
                                                     const v1::CheckBudgetRequest* request,
                                                     v1::CheckBudgetResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<domain::budget::CheckResult> result = budgets_.Check(FromProto(*request));
  if (result.ok()) ToProto(*result, response);
  // Never a silent ALLOW: a malformed or unservable check is an error the caller must handle.
  reactor->Finish(ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* BudgetService::Acknowledge(grpc::CallbackServerContext* context,
                                                     const v1::AcknowledgeRequest* request,
                                                     v1::Acknowledgement* response) {
  return OnPool(context, [this, request, response] {
    const absl::Time expires = absl::FromUnixSeconds(request->expires_at().seconds()) +
                               absl::Nanoseconds(request->expires_at().nanos());
    absl::StatusOr<domain::budget::Acknowledgement> ack =
        budgets_.Acknowledge(request->cap_id(), request->principal(), request->reason(),
                             request->extra_headroom_nano_usd(), expires);
    if (ack.ok()) ToProto(*ack, response);
    return ack.status();
  });
}

grpc::ServerUnaryReactor* BudgetService::ListAcknowledgements(
    grpc::CallbackServerContext* context, const v1::ListAcknowledgementsRequest* request,
    v1::ListAcknowledgementsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  for (const auto& ack : budgets_.ListAcknowledgements(request->cap_id())) {
    ToProto(ack, response->add_acknowledgements());
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* BudgetService::PutBudget(grpc::CallbackServerContext* context,
                                                   const v1::PutBudgetRequest* request,
                                                   v1::Cap* response) {
  return OnPool(context, [this, request, response] {
    absl::StatusOr<domain::budget::Cap> cap = FromProto(request->cap());
    if (!cap.ok()) return cap.status();
    absl::StatusOr<domain::budget::Cap> stored =
        budgets_.PutCap(std::move(*cap), request->changed_by());
    if (stored.ok()) ToProto(*stored, response);
    return stored.status();
  });
}

grpc::ServerUnaryReactor* BudgetService::ListBudgets(grpc::CallbackServerContext* context,
                                                     const v1::ListBudgetsRequest* request,
                                                     v1::ListBudgetsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  for (const auto& cap : budgets_.ListCaps()) ToProto(cap, response->add_caps());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* BudgetService::DeleteBudget(grpc::CallbackServerContext* context,
                                                      const v1::DeleteBudgetRequest* request,
                                                      v1::DeleteBudgetResponse* response) {
  return OnPool(context, [this, request] {
    return budgets_.DeleteCap(request->cap_id(), request->changed_by());
  });
}

}  // namespace stepledger::transport
