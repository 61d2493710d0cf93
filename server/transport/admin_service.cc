#include "server/transport/admin_service.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/domain/auth/method_policy.h"
#include "server/domain/pricing/quote.h"
#include "server/transport/admin_convert.h"
#include "server/transport/reports_convert.h"
#include "server/transport/status_convert.h"

namespace stepledger::transport {
namespace {

namespace pricing = domain::pricing;
using domain::auth::AuditActor;

constexpr int kDefaultAuditLimit = 100;
constexpr int kMaxAuditLimit = 1000;

constexpr int kDefaultWhatIfDays = 30;

absl::StatusOr<DayInterval> RollUpRange(const v1::RollUpRequest& request) {
  absl::StatusOr<DayInterval> range = FromProto(request.range(), "range");
  if (!range.ok()) return range.status();
  if (range->to - range->from >= kMaxRollupDays) {
    return absl::InvalidArgumentError(
        absl::StrCat("range: at most ", kMaxRollupDays, " days per call"));
  }
  return range;
}

absl::Status CheckReprice(const v1::RepriceRequest& request) {
  if (!request.has_since()) return absl::InvalidArgumentError("since: required");
  return CheckReason(request.reason());
}

// The method whose roles may poll an operation of `kind`.
std::string_view StartMethodOf(std::string_view kind) {
  if (kind == "rollup") return domain::auth::method::kStartRollUp;
  if (kind == "whatif") return domain::auth::method::kStartWhatIf;
  return domain::auth::method::kStartReprice;
}

// What a client is told: the same sanitised status an RPC would have answered.
absl::Status AsSent(const absl::Status& status) {
  const grpc::Status sent = ToGrpcStatus(status);
  return absl::Status(static_cast<absl::StatusCode>(sent.error_code()), sent.error_message());
}

}  // namespace

AdminService::AdminService(AdminBackend& backend, const Authorizer& authorizer, WorkPool& pool,
                           OperationRegistry& operations)
    : backend_(backend), authorizer_(authorizer), pool_(pool), operations_(operations) {}

AdminService::~AdminService() {
  stopping_ = true;
  absl::MutexLock lock(&tasks_mu_);
  tasks_mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &running_tasks_));
}

grpc::ServerUnaryReactor* AdminService::OnPool(
    grpc::CallbackServerContext* context, std::string_view method,
    std::function<absl::Status(const domain::auth::Principal& caller)> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<PrincipalPtr> caller = authorizer_.Authorize(*context, method);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (!pool_.TrySchedule([reactor, work = std::move(work), caller = *std::move(caller)] {
        reactor->Finish(ToGrpcStatus(work(*caller)));
      })) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many admin calls queued; retry"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::RollUp(grpc::CallbackServerContext* context,
                                               const v1::RollUpRequest* request,
                                               v1::RollUpResponse* response) {
  return OnPool(context, domain::auth::method::kRollUp,
                [this, request, response](const domain::auth::Principal&) -> absl::Status {
                  absl::StatusOr<DayInterval> range = RollUpRange(*request);
                  if (!range.ok()) return range.status();
                  return RunRollUp(*range, response, nullptr);
                });
}

absl::Status AdminService::RunRollUp(const DayInterval& range, v1::RollUpResponse* response,
                                     const AdminBackend::DayDone& on_day) {
  absl::StatusOr<domain::reports::RollupRunResult> run =
      backend_.RollUp(range.from, range.to, on_day);
  if (!run.ok()) return run.status();
  if (!run->ran) {
    return absl::AbortedError(
        "another rollup holds the lock (a collector's nightly job or another backfill); "
        "nothing was done: retry later");
  }
  ToProto(*run, response);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminService::ImportInvoice(grpc::CallbackServerContext* context,
                                                      const v1::ImportInvoiceRequest* request,
                                                      v1::ImportInvoiceResponse* response) {
  return OnPool(context, domain::auth::method::kImportInvoice,
                [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
                  absl::StatusOr<std::vector<domain::reports::Invoice>> invoices =
                      FromProto(*request);
                  if (!invoices.ok()) return invoices.status();
                  if (absl::Status s = CheckReason(request->reason()); !s.ok()) return s;
                  if (absl::Status s = backend_.ImportInvoices(
                          *invoices, request->source(), AuditActor::Of(caller, request->reason()));
                      !s.ok())
                    return s;
                  const auto [from, to] = domain::reports::InvoicedDays(*invoices);
                  absl::StatusOr<domain::reports::ShowbackInputs> inputs =
                      backend_.LoadShowback(from, to, "");
                  if (!inputs.ok()) return inputs.status();
                  for (const auto& line : domain::reports::ReconcileImported(*inputs, *invoices)) {
                    ToProto(line, response->add_reconciliation());
                  }
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* AdminService::ListUnpriced(grpc::CallbackServerContext* context,
                                                     const v1::ListUnpricedRequest* request,
                                                     v1::ListUnpricedResponse* response) {
  return OnPool(context, domain::auth::method::kListUnpriced,
                [this, request, response](const domain::auth::Principal&) -> absl::Status {
                  const absl::Time since = request->has_since() ? FromProto(request->since())
                                                                : absl::Now() - absl::Hours(24);
                  const absl::Time until =
                      request->has_until() ? FromProto(request->until()) : absl::InfiniteFuture();
                  absl::StatusOr<std::vector<pricing::UnpricedGroup>> groups =
                      backend_.ListUnpriced(since, until);
                  if (!groups.ok()) return groups.status();
                  ToProto(since, response->mutable_since());
                  if (request->has_until()) *response->mutable_until() = request->until();
                  for (const pricing::UnpricedGroup& g : *groups)
                    ToProto(g, response->add_groups());
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* AdminService::LoadPriceCatalog(grpc::CallbackServerContext* context,
                                                         const v1::LoadPriceCatalogRequest* request,
                                                         v1::PriceVersionInfo* response) {
  return OnPool(context, domain::auth::method::kLoadPriceCatalog,
                [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
                  absl::StatusOr<pricing::CatalogTexts> texts = FromProto(*request);
                  if (!texts.ok()) return texts.status();
                  if (absl::Status s = CheckReason(request->reason()); !s.ok()) return s;
                  absl::StatusOr<pricing::PriceVersionInfo> info = backend_.SavePriceVersion(
                      *texts, absl::Now(), AuditActor::Of(caller, request->reason()));
                  if (!info.ok()) return info.status();
                  ToProto(*info, response);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* AdminService::Reprice(grpc::CallbackServerContext* context,
                                                const v1::RepriceRequest* request,
                                                v1::RepriceResponse* response) {
  return OnPool(context, domain::auth::method::kReprice,
                [this, request, response](const domain::auth::Principal& caller) -> absl::Status {
                  if (absl::Status s = CheckReprice(*request); !s.ok()) return s;
                  return RunReprice(*request, AuditActor::Of(caller, request->reason()), response);
                });
}

absl::Status AdminService::RunReprice(const v1::RepriceRequest& request, const AuditActor& actor,
                                      v1::RepriceResponse* response) {
  const absl::Time until =
      request.has_until() ? FromProto(request.until()) : absl::InfiniteFuture();
  absl::StatusOr<pricing::RepriceReport> report =
      backend_.Reprice(FromProto(request.since()), until, request.dry_run(), actor);
  if (!report.ok()) return report.status();
  ToProto(*report, response);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminService::QuotePrice(grpc::CallbackServerContext* context,
                                                   const v1::QuotePriceRequest* request,
                                                   v1::QuotePriceResponse* response) {
  return OnPool(context, domain::auth::method::kQuotePrice,
                [this, request, response](const domain::auth::Principal&) -> absl::Status {
                  absl::StatusOr<std::shared_ptr<const pricing::PriceVersion>> version =
                      backend_.PriceVersionFor(request->catalog_text(), request->catalog_source(),
                                               absl::Now());
                  if (!version.ok()) return version.status();
                  absl::StatusOr<pricing::CallQuote> quote = pricing::QuoteCall(
                      **version, request->provider(), request->model(),
                      request->has_usage()
                          ? std::optional<domain::Usage>(FromProto(request->usage()))
                          : std::nullopt,
                      request->tier());
                  if (!quote.ok()) return quote.status();
                  ToProto(*quote, **version, response);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* AdminService::WhatIfBudget(grpc::CallbackServerContext* context,
                                                     const v1::WhatIfBudgetRequest* request,
                                                     v1::WhatIfBudgetResponse* response) {
  return OnPool(context, domain::auth::method::kWhatIfBudget,
                [this, request, response](const domain::auth::Principal&) -> absl::Status {
                  absl::StatusOr<WhatIfPlan> plan = PlanWhatIf(*request, absl::Now());
                  if (!plan.ok()) return plan.status();
                  return RunWhatIf(*plan, response, nullptr);
                });
}

grpc::ServerUnaryReactor* AdminService::ListAdminAudit(grpc::CallbackServerContext* context,
                                                       const v1::ListAdminAuditRequest* request,
                                                       v1::ListAdminAuditResponse* response) {
  return OnPool(
      context, domain::auth::method::kListAdminAudit,
      [this, request, response](const domain::auth::Principal&) -> absl::Status {
        const int limit = request->limit() == 0 ? kDefaultAuditLimit : request->limit();
        if (limit < 1 || limit > kMaxAuditLimit) {
          return absl::InvalidArgumentError(absl::StrCat("limit: must be 1..", kMaxAuditLimit,
                                                         " (0 means ", kDefaultAuditLimit, ")"));
        }
        absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> rows =
            backend_.ListAdminAudit(limit);
        if (!rows.ok()) return rows.status();
        for (const auto& row : *rows) ToProto(row, response->add_entries());
        return absl::OkStatus();
      });
}

absl::StatusOr<AdminService::WhatIfPlan> AdminService::PlanWhatIf(
    const v1::WhatIfBudgetRequest& request, absl::Time now) {
  const int days = request.days() == 0 ? kDefaultWhatIfDays : request.days();
  if (days < 1 || days > 400) return absl::InvalidArgumentError("days: must be 1..400");
  absl::StatusOr<std::vector<domain::budget::Cap>> caps = FromProto(request);
  if (!caps.ok()) return caps.status();
  // From 00:00 UTC `days` days ago, so the first daily counter covers a whole day.
  const absl::CivilDay first = absl::ToCivilDay(now, absl::UTCTimeZone()) - days;
  return WhatIfPlan{.caps = *std::move(caps), .first_day = first, .days = days, .until = now};
}

absl::Status AdminService::RunWhatIf(const WhatIfPlan& plan, v1::WhatIfBudgetResponse* response,
                                     const std::function<bool(absl::CivilDay)>& on_day) {
  std::set<domain::Environment> environment_set;
  for (const domain::budget::Cap& cap : plan.caps) environment_set.insert(cap.environment);
  const std::vector<domain::Environment> environments(environment_set.begin(),
                                                      environment_set.end());
  const absl::Time since = absl::FromCivil(plan.first_day, absl::UTCTimeZone());
  std::vector<domain::budget::HistoricalStep> history;
  // Read as one range, or, for an operation, one day at a time (each day is one partition of
  // the ledger), so that progress is the days read: reading is the slow part, the replay is
  // in memory.
  const absl::CivilDay last = absl::ToCivilDay(plan.until, absl::UTCTimeZone());
  for (absl::CivilDay day = plan.first_day; day <= last; ++day) {
    const absl::Time from = on_day ? absl::FromCivil(day, absl::UTCTimeZone()) : since;
    const absl::Time to =
        on_day ? std::min(plan.until, absl::FromCivil(day + 1, absl::UTCTimeZone())) : plan.until;
    absl::StatusOr<std::vector<domain::budget::HistoricalStep>> part =
        backend_.LoadBudgetHistory(from, to, environments);
    if (!part.ok()) return part.status();
    history.insert(history.end(), std::make_move_iterator(part->begin()),
                   std::make_move_iterator(part->end()));
    if (!on_day) break;
    if (!on_day(day)) {
      return absl::CancelledError(
          "the collector is shutting down: the what-if stopped before its end; start it again");
    }
  }
  absl::StatusOr<domain::budget::WhatIfReport> report = domain::budget::WhatIf(plan.caps, history);
  if (!report.ok()) return report.status();
  ToProto(since, response->mutable_since());
  ToProto(plan.until, response->mutable_until());
  response->set_days(plan.days);
  response->set_caps(static_cast<int32_t>(plan.caps.size()));
  ToProto(*report, response);
  return absl::OkStatus();
}

void AdminService::BeginTask() {
  absl::MutexLock lock(&tasks_mu_);
  ++running_tasks_;
}

void AdminService::EndTask() {
  absl::MutexLock lock(&tasks_mu_);
  --running_tasks_;
}

grpc::ServerUnaryReactor* AdminService::StartOperation(
    grpc::CallbackServerContext* context, std::string_view kind, int64_t units_total,
    std::function<absl::Status(const std::string& id, v1::Operation& result)> work,
    v1::Operation* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::Operation> op = operations_.Start(kind, units_total);
  if (!op.ok()) {
    reactor->Finish(ToGrpcStatus(op.status()));
    return reactor;
  }
  const std::string id = op->id();
  const grpc::Status queue_full(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "too many admin calls queued; retry");
  // Recorded in the store first (on the records pool: it is I/O), so that once the client has
  // the id every replica can answer for it; then the work goes to the admin pool.
  auto publish_then_run = [this, reactor, response, id, queue_full, op = *op,
                           work = std::move(work)]() mutable {
    if (absl::Status published = operations_.Publish(id); !published.ok()) {
      operations_.Finish(id, AsSent(published), {});
      reactor->Finish(ToGrpcStatus(published));
      EndTask();
      return;
    }
    if (!pool_.TrySchedule([this, id, work = std::move(work)] {
          v1::Operation result;
          const absl::Status status = work(id, result);
          operations_.Finish(id, AsSent(status), result);
          EndTask();
        })) {
      operations_.Finish(id, absl::ResourceExhaustedError("not started: admin queue full"), {});
      reactor->Finish(queue_full);
      EndTask();
      return;
    }
    *response = std::move(op);
    reactor->Finish(grpc::Status::OK);
  };
  BeginTask();
  if (!records_.TrySchedule(std::move(publish_then_run))) {
    operations_.Finish(id, absl::ResourceExhaustedError("not started: admin queue full"), {});
    EndTask();
    reactor->Finish(queue_full);
  }
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::StartRollUp(grpc::CallbackServerContext* context,
                                                    const v1::RollUpRequest* request,
                                                    v1::Operation* response) {
  if (absl::StatusOr<PrincipalPtr> caller =
          authorizer_.Authorize(*context, domain::auth::method::kStartRollUp);
      !caller.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  absl::StatusOr<DayInterval> range = RollUpRange(*request);
  if (!range.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(range.status()));
    return reactor;
  }
  const int64_t days = range->to - range->from + 1;
  return StartOperation(
      context, "rollup", days,
      [this, range = *range](const std::string& id, v1::Operation& result) -> absl::Status {
        int64_t done = 0;
        absl::Status status =
            RunRollUp(range, result.mutable_roll_up(),
                      [this, &id, &done](const domain::reports::RollupDayResult& day) {
                        operations_.Progress(id, ++done, DayText(day.day));
                        return !stopping_;
                      });
        if (status.ok() && done < range.to - range.from + 1) {
          return absl::CancelledError(
              absl::StrCat("the collector is shutting down: stopped after ", done,
                           " day(s), which are rolled up; start the rollup again for the rest"));
        }
        return status;
      },
      response);
}

grpc::ServerUnaryReactor* AdminService::StartReprice(grpc::CallbackServerContext* context,
                                                     const v1::RepriceRequest* request,
                                                     v1::Operation* response) {
  absl::StatusOr<PrincipalPtr> caller =
      authorizer_.Authorize(*context, domain::auth::method::kStartReprice);
  if (!caller.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (absl::Status s = CheckReprice(*request); !s.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  return StartOperation(
      context, "reprice", /*units_total=*/0,
      [this, request = *request, actor = AuditActor::Of(**caller, request->reason())](
          const std::string&, v1::Operation& result) {
        return RunReprice(request, actor, result.mutable_reprice());
      },
      response);
}

grpc::ServerUnaryReactor* AdminService::StartWhatIf(grpc::CallbackServerContext* context,
                                                    const v1::WhatIfBudgetRequest* request,
                                                    v1::Operation* response) {
  if (absl::StatusOr<PrincipalPtr> caller =
          authorizer_.Authorize(*context, domain::auth::method::kStartWhatIf);
      !caller.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  absl::StatusOr<WhatIfPlan> plan = PlanWhatIf(*request, absl::Now());
  if (!plan.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(plan.status()));
    return reactor;
  }
  // Days from the first to today, the partial day included.
  const int64_t days = plan->days + 1;
  return StartOperation(
      context, "whatif", days,
      [this, plan = *std::move(plan)](const std::string& id, v1::Operation& result) {
        int64_t done = 0;
        return RunWhatIf(plan, result.mutable_what_if(), [this, &id, &done](absl::CivilDay day) {
          operations_.Progress(id, ++done, DayText(day));
          return !stopping_;
        });
      },
      response);
}

grpc::ServerUnaryReactor* AdminService::GetOperation(grpc::CallbackServerContext* context,
                                                     const v1::GetOperationRequest* request,
                                                     v1::Operation* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<PrincipalPtr> caller =
          authorizer_.Authorize(*context, domain::auth::method::kGetOperation);
      !caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  // Whoever may start an operation of that kind may poll it (GetOperation's own roles are the
  // union of the starters').
  auto answer = [this, context, reactor, response](absl::StatusOr<v1::Operation> op) {
    if (op.ok()) {
      if (absl::StatusOr<PrincipalPtr> caller =
              authorizer_.Authorize(*context, StartMethodOf(op->kind()));
          !caller.ok()) {
        reactor->Finish(ToGrpcStatus(caller.status()));
        return;
      }
      *response = *std::move(op);
    }
    reactor->Finish(ToGrpcStatus(op.status()));
  };
  // This replica's own operations are in memory; another's are read from the store, which is
  // I/O, on the records pool.
  absl::StatusOr<v1::Operation> mine = operations_.Get(request->id());
  if (mine.ok()) {
    answer(std::move(mine));
    return reactor;
  }
  BeginTask();
  if (!records_.TrySchedule([this, id = request->id(), answer] {
        answer(operations_.Lookup(id));
        EndTask();
      })) {
    EndTask();
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many admin calls queued; retry"));
  }
  return reactor;
}

}  // namespace stepledger::transport
