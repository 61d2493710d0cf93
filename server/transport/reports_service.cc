#include "server/transport/reports_service.h"

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/domain/auth/method_policy.h"
#include "server/domain/reports/showback_scope.h"
#include "server/render/render.h"
#include "server/transport/reports_convert.h"
#include "server/transport/status_convert.h"

namespace stepledger::transport {

ReportsService::ReportsService(ShowbackLoader loader, WorkPool& pool, const Authorizer& authorizer,
                               RollupRunner roll_up)
    : loader_(std::move(loader)),
      pool_(pool),
      authorizer_(authorizer),
      roll_up_(std::move(roll_up)) {}

grpc::ServerUnaryReactor* ReportsService::GetShowback(grpc::CallbackServerContext* context,
                                                      const v1::ShowbackRequest* request,
                                                      v1::ShowbackReport* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller =
      authorizer_.Authorize(*context, domain::auth::method::kGetShowback);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  const absl::Time now = absl::Now();
  absl::StatusOr<ShowbackQuery> query =
      FromProto(*request, absl::ToCivilDay(now, absl::UTCTimeZone()));
  if (!query.ok()) {
    reactor->Finish(ToGrpcStatus(query.status()));
    return reactor;
  }
  const v1::Environment environment = request->environment();
  if (!pool_.TrySchedule([this, reactor, response, environment, q = *std::move(query),
                          caller = *std::move(caller)] {
        // A scoped key's report is built from its scopes' lines only (showback_scope.h).
        const ShowbackLoader visible =
            [this, &caller](
                absl::CivilDay from, absl::CivilDay to,
                const std::string& env) -> absl::StatusOr<domain::reports::ShowbackInputs> {
          absl::StatusOr<domain::reports::ShowbackInputs> inputs = loader_(from, to, env);
          if (!inputs.ok()) return inputs.status();
          return domain::reports::VisibleInputs(caller->scopes, *std::move(inputs));
        };
        const absl::StatusOr<domain::reports::ShowbackReport> report =
            domain::reports::LoadShowbackReport(
                visible, roll_up_, {q.from, q.to, q.environment, q.roll_up_missing}, absl::Now());
        if (!report.ok()) {
          reactor->Finish(ToGrpcStatus(report.status()));
          return;
        }
        ToProto(*report, environment, response);
        if (q.format.has_value()) {
          response->set_rendered_format(ToProto(*q.format));
          response->set_rendered(render::Render(*report, *q.format));
        }
        reactor->Finish(grpc::Status::OK);
      })) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many report calls queued; retry"));
  }
  return reactor;
}

}  // namespace stepledger::transport
