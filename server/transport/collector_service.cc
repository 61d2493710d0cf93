#include "server/transport/collector_service.h"

#include "absl/strings/str_cat.h"
#include "server/domain/auth/method_policy.h"
#include "server/transport/run_convert.h"
#include "server/transport/status_convert.h"
#include "server/transport/step_stream_reactor.h"

namespace stepledger::transport {

namespace {

// A stream refused before it starts (no or a wrong credential): finished at once, nothing read.
class RefusedStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

// A scoped key reads a run only when every stored step of it is charged inside its scopes
// (a run's steps are charged to its root's tags, so this is "runs of its teams"); otherwise the
// tree would show another team's spend. The answer names no tag of the run.
absl::Status RunVisible(const domain::auth::Scopes& scopes, const domain::runs::RunView& view) {
  if (scopes.all()) return absl::OkStatus();
  bool visible = true;
  for (const domain::runs::RunNode& node : view.tree.nodes) {
    visible = visible && scopes.Shows(node.step.charged_tags.team, node.step.charged_tags.feature,
                                      node.step.charged_tags.tenant);
  }
  for (const domain::runs::InvalidStep& step : view.tree.invalid) {
    visible = visible && scopes.Shows(step.step.charged_tags.team, step.step.charged_tags.feature,
                                      step.step.charged_tags.tenant);
  }
  if (visible) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "run_id: run ", view.tree.run_id, " has steps charged outside the credential's scope"));
}

}  // namespace

CollectorService::CollectorService(domain::ingest::IngestService& ingest,
                                   domain::runs::RunQuery* run_query, const Authorizer& authorizer,
                                   Options options)
    : ingest_(ingest),
      run_query_(run_query),
      authorizer_(authorizer),
      options_(options),
      ack_memory_(options.max_unsent_ack_bytes),
      run_query_pool_(options.run_query_threads, options.max_queued_run_queries) {}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* CollectorService::StreamSteps(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<PrincipalPtr> caller =
      authorizer_.Authorize(*context, domain::auth::method::kStreamSteps);
  if (!caller.ok()) return new RefusedStream(ToGrpcStatus(caller.status()));
  return new StepStreamReactor(ingest_, ack_memory_,
                               {.max_inflight_batches = options_.max_inflight_batches,
                                .max_quarantine_event_bytes = options_.max_quarantine_event_bytes,
                                .caller = *std::move(caller),
                                .rate_limiter = options_.rate_limiter});
}

grpc::ServerUnaryReactor* CollectorService::GetRun(grpc::CallbackServerContext* context,
                                                   const v1::GetRunRequest* request,
                                                   v1::Run* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller =
      authorizer_.Authorize(*context, domain::auth::method::kGetRun);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // A malformed id is answered here, without a thread hop.
  if (absl::Status s = domain::runs::ValidateRunId(request->run_id()); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  // `request` and `response` stay valid until Finish() is called.
  const bool queued =
      run_query_pool_.TrySchedule([this, reactor, request, response, caller = *std::move(caller)] {
        absl::StatusOr<domain::runs::RunView> view = run_query_->GetRun(request->run_id());
        if (!view.ok()) {
          reactor->Finish(ToGrpcStatus(view.status()));
          return;
        }
        if (absl::Status s = RunVisible(caller->scopes, *view); !s.ok()) {
          reactor->Finish(ToGrpcStatus(s));
          return;
        }
        ToProto(*view, response);
        reactor->Finish(grpc::Status::OK);
      });
  if (!queued) {
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many GetRun queries waiting; retry with backoff"));
  }
  return reactor;
}

}  // namespace stepledger::transport
