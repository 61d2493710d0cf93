#include "server/transport/budget_service.h"

#include <google/protobuf/arena.h>
#include <grpc/slice.h>

#include <cstddef>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "server/domain/auth/method_policy.h"
#include "server/transport/budget_convert.h"
#include "server/transport/check_response_encoding.h"
#include "server/transport/status_convert.h"

namespace stepledger::transport {

namespace {

namespace method = domain::auth::method;

bool Covers(const domain::auth::Scopes& scopes, const domain::budget::Cap& cap) {
  return scopes.Covers(domain::budget::ToString(cap.scope), cap.key);
}

absl::Status CapDenied(const domain::budget::Cap& cap) {
  return absl::PermissionDeniedError(
      absl::StrCat("cap ", cap.id, " limits ", std::string(domain::budget::ToString(cap.scope)),
                   " ", cap.key, ", which the credential's scopes do not cover"));
}

// The audited name: always the credential's identity; what the caller typed is a note.
std::string Audited(const domain::auth::Principal& caller, const std::string& typed) {
  return domain::budget::Actor{caller.Identity(), typed}.Audited();
}

// The scope rule of cap changes: the credential must cover the cap (as stored and as it will
// be: CapGovernance asks for both).
domain::budget::CapAccess AccessOf(const domain::auth::Principal& caller) {
  return [&caller](const domain::budget::Cap& cap) {
    return Covers(caller.scopes, cap) ? absl::OkStatus() : CapDenied(cap);
  };
}

absl::Status NoGovernance() {
  return absl::UnimplementedError("cap changes need the collector's sign-off store");
}

}  // namespace

BudgetService::BudgetService(domain::budget::BudgetCoordinator& budgets,
                             const Authorizer& authorizer, WorkPool& pool,
                             domain::budget::CapGovernance* governance)
    : budgets_(budgets), authorizer_(authorizer), pool_(pool), governance_(governance) {}

grpc::ServerUnaryReactor* BudgetService::OnPool(
    grpc::CallbackServerContext* context, std::string_view method,
    std::function<absl::Status(const domain::auth::Principal&)> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller = authorizer_.Authorize(*context, method);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (!pool_.TrySchedule([reactor, work = std::move(work), caller = *std::move(caller)] {
        reactor->Finish(ToGrpcStatus(work(*caller)));
      })) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many budget administration calls queued; retry"));
  }
  return reactor;
}

absl::Status BudgetService::CheckCapAccess(const domain::auth::Principal& caller,
                                           const std::string& cap_id) {
  for (const domain::budget::Cap& cap : budgets_.ListCaps()) {
    if (cap.id == cap_id && !Covers(caller.scopes, cap)) return CapDenied(cap);
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* BudgetService::CheckBudget(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller = authorizer_.Authorize(*context, method::kCheckBudget);
  reactor->Finish(caller.ok() ? Check(**caller, *request, response)
                              : ToGrpcStatus(caller.status()));
  return reactor;
}

grpc::Status BudgetService::Check(const domain::auth::Principal& caller,
                                  const grpc::ByteBuffer& request_bytes,
                                  grpc::ByteBuffer* response_bytes) {
  // The request lives only while this call runs (inline, on this thread): a stack arena holds
  // it and its tag strings without a malloc. 1 KiB fits a request with typical tags; longer
  // ones make the arena take more blocks.
  alignas(std::max_align_t) char block[1024];
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = block;
  arena_options.initial_block_size = sizeof(block);
  google::protobuf::Arena arena(arena_options);
  auto* request = google::protobuf::Arena::CreateMessage<v1::CheckBudgetRequest>(&arena);
  // A request is almost always one slice: parse it in place. Otherwise join the slices first.
  // An empty request (every field at its default) has no slice at all and parses as such.
  grpc::Slice bytes;
  if (request_bytes.Length() > 0 && !request_bytes.TrySingleSlice(&bytes).ok() &&
      !request_bytes.DumpToSingleSlice(&bytes).ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: unreadable bytes");
  }
  if (!request->ParseFromArray(bytes.begin(), static_cast<int>(bytes.size()))) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request: not a valid stepledger.v1.CheckBudgetRequest");
  }
  const domain::budget::CheckRequest check = FromProto(*request);
  if (auto violation = caller.scopes.Check(check.tags); violation.has_value()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat(violation->field, ": ", violation->reason));
  }
  absl::StatusOr<domain::budget::CheckResult> result = budgets_.Check(check);
  // Never a silent ALLOW: a malformed or unservable check is an error the caller must handle.
  if (!result.ok()) return ToGrpcStatus(result.status());
  const CheckResponseEncoder encoder(*result, request->only_deciding_cap()
                                                  ? AnsweredCaps::kOnlyDecidingCap
                                                  : AnsweredCaps::kEveryMatchingCap);
  grpc_slice slice = grpc_slice_malloc(encoder.size());
  encoder.EncodeTo(GRPC_SLICE_START_PTR(slice));
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  *response_bytes = grpc::ByteBuffer(&owned, 1);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* BudgetService::Acknowledge(grpc::CallbackServerContext* context,
                                                     const v1::AcknowledgeRequest* request,
                                                     v1::Acknowledgement* response) {
  return OnPool(context, method::kAcknowledge,
                [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
                  // Only a credential covering the cap's key (its owner's scope) or "*" may
                  // acknowledge.
                  if (absl::Status s = CheckCapAccess(caller, request->cap_id()); !s.ok()) return s;
                  const absl::Time expires =
                      absl::FromUnixSeconds(request->expires_at().seconds()) +
                      absl::Nanoseconds(request->expires_at().nanos());
                  absl::StatusOr<domain::budget::Acknowledgement> ack = budgets_.Acknowledge(
                      request->cap_id(), Audited(caller, request->principal()), request->reason(),
                      request->extra_headroom_nano_usd(), expires);
                  if (ack.ok()) ToProto(*ack, response);
                  return ack.status();
                });
}

grpc::ServerUnaryReactor* BudgetService::ListAcknowledgements(
    grpc::CallbackServerContext* context, const v1::ListAcknowledgementsRequest* request,
    v1::ListAcknowledgementsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller =
      authorizer_.Authorize(*context, method::kListAcknowledgements);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // Only acknowledgements of caps whose key the credential names.
  absl::flat_hash_set<std::string> visible;
  for (const domain::budget::Cap& cap : budgets_.ListCaps()) {
    if ((*caller)->scopes.Mentions(domain::budget::ToString(cap.scope), cap.key)) {
      visible.insert(cap.id);
    }
  }
  for (const auto& ack : budgets_.ListAcknowledgements(request->cap_id())) {
    if ((*caller)->scopes.all() || visible.contains(ack.cap_id)) {
      ToProto(ack, response->add_acknowledgements());
    }
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* BudgetService::PutBudget(grpc::CallbackServerContext* context,
                                                   const v1::PutBudgetRequest* request,
                                                   v1::Cap* response) {
  return OnPool(
      context, method::kPutBudget,
      [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
        absl::StatusOr<domain::budget::Cap> cap = FromProto(request->cap());
        if (!cap.ok()) return cap.status();
        // Both the cap as it will be and the cap it replaces must be the caller's to change.
        if (!Covers(caller.scopes, *cap)) return CapDenied(*cap);
        if (absl::Status s = CheckCapAccess(caller, cap->id); !s.ok()) return s;
        if (request->validate_only()) {  // The cap as PutCap would store it; nothing changes.
          domain::budget::Cap checked = domain::budget::ApplyCapDefaults(*std::move(cap));
          if (absl::Status s = domain::budget::ValidateCap(checked); !s.ok()) return s;
          checked.signed_off_by.clear();  // only a second credential's approval signs off
          ToProto(checked, response);
          return absl::OkStatus();
        }
        if (governance_ == nullptr) return NoGovernance();
        // A typed signed_off_by never signs a cap off; the audit row keeps it as its reason.
        domain::budget::Actor actor{caller.Identity(), request->changed_by()};
        if (!request->cap().signed_off_by().empty()) {
          actor.remark = absl::StrCat("signed_off_by as typed: ", request->cap().signed_off_by());
        }
        absl::StatusOr<domain::budget::CapChangeOutcome> outcome =
            governance_->Put(*std::move(cap), actor, AccessOf(caller));
        if (!outcome.ok()) return outcome.status();
        if (outcome->proposal.has_value() && outcome->proposal->cap.has_value()) {
          ToProto(*outcome->proposal->cap, response);  // the cap as proposed, not in force
          response->set_proposal_id(outcome->proposal->id);
        } else if (outcome->in_force.has_value()) {
          ToProto(*outcome->in_force, response);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* BudgetService::ListBudgets(grpc::CallbackServerContext* context,
                                                     const v1::ListBudgetsRequest* request,
                                                     v1::ListBudgetsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller = authorizer_.Authorize(*context, method::kListBudgets);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  for (const auto& cap : budgets_.ListCaps()) {
    if ((*caller)->scopes.Mentions(domain::budget::ToString(cap.scope), cap.key)) {
      ToProto(cap, response->add_caps());
    }
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* BudgetService::DeleteBudget(grpc::CallbackServerContext* context,
                                                      const v1::DeleteBudgetRequest* request,
                                                      v1::DeleteBudgetResponse* response) {
  return OnPool(context, method::kDeleteBudget,
                [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
                  if (governance_ == nullptr) return NoGovernance();
                  absl::StatusOr<domain::budget::CapChangeOutcome> outcome = governance_->Delete(
                      request->cap_id(), {caller.Identity(), request->changed_by()},
                      AccessOf(caller));
                  if (!outcome.ok()) return outcome.status();
                  if (outcome->proposal.has_value()) {
                    response->set_proposal_id(outcome->proposal->id);
                  }
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* BudgetService::ApproveBudget(grpc::CallbackServerContext* context,
                                                       const v1::ApproveBudgetRequest* request,
                                                       v1::ApproveBudgetResponse* response) {
  return OnPool(
      context, method::kApproveBudget,
      [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
        if (governance_ == nullptr) return NoGovernance();
        if (request->cap_id().empty()) {
          return absl::InvalidArgumentError("cap_id: required");
        }
        absl::StatusOr<domain::budget::CapChangeOutcome> outcome = governance_->Approve(
            {request->cap_id(), request->proposal_id(), request->revision(), request->reason()},
            {caller.Identity(), ""}, AccessOf(caller));
        if (!outcome.ok()) return outcome.status();
        if (outcome->in_force.has_value()) {
          ToProto(*outcome->in_force, response->mutable_cap());
        } else {
          response->set_deleted(true);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* BudgetService::ListBudgetProposals(
    grpc::CallbackServerContext* context, const v1::ListBudgetProposalsRequest* request,
    v1::ListBudgetProposalsResponse* response) {
  return OnPool(context, method::kListBudgetProposals,
                [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
                  if (governance_ == nullptr) return NoGovernance();
                  const auto visible = [&caller](const domain::budget::Cap& cap) {
                    return caller.scopes.Mentions(domain::budget::ToString(cap.scope), cap.key);
                  };
                  // A proposal is visible with its cap in force (a delete has no other) or as
                  // proposed.
                  absl::flat_hash_set<std::string> visible_caps;
                  for (const domain::budget::Cap& cap : budgets_.ListCaps()) {
                    if (visible(cap)) visible_caps.insert(cap.id);
                  }
                  absl::StatusOr<std::vector<domain::budget::CapProposal>> proposals =
                      governance_->OpenProposals(request->cap_id());
                  if (!proposals.ok()) return proposals.status();
                  for (const auto& p : *proposals) {
                    if (visible_caps.contains(p.cap_id) || (p.cap.has_value() && visible(*p.cap))) {
                      ToProto(p, response->add_proposals());
                    }
                  }
                  absl::StatusOr<std::vector<domain::budget::Cap>> awaiting =
                      governance_->AwaitingSignOff(request->cap_id());
                  if (!awaiting.ok()) return awaiting.status();
                  for (const auto& cap : *awaiting) {
                    if (!visible(cap)) continue;
                    v1::CapAwaitingSignOff* a = response->add_awaiting_sign_off();
                    ToProto(cap, a->mutable_cap());
                    a->set_changed_by(cap.changed_by);
                  }
                  return absl::OkStatus();
                });
}

}  // namespace stepledger::transport
