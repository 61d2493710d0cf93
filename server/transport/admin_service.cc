#include "server/transport/admin_service.h"

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
  return absl::OkStatus();
}

// What a client is told: the same sanitised status an RPC would have answered.
absl::Status AsSent(const absl::Status& status) {
  const grpc::Status sent = ToGrpcStatus(status);
  return absl::Status(static_cast<absl::StatusCode>(sent.error_code()), sent.error_message());
}

}  // namespace

AdminService::AdminService(AdminBackend& backend, const Authorizer& authorizer, WorkPool& pool)
    : backend_(backend), authorizer_(authorizer), pool_(pool) {}

AdminService::~AdminService() {
  stopping_ = true;
  absl::MutexLock lock(&tasks_mu_);
  tasks_mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &running_tasks_));
}

grpc::ServerUnaryReactor* AdminService::OnPool(grpc::CallbackServerContext* context,
                                               std::string_view method,
                                               std::function<absl::Status()> work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<PrincipalPtr> caller = authorizer_.Authorize(*context, method); !caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (!pool_.TrySchedule(
          [reactor, work = std::move(work)] { reactor->Finish(ToGrpcStatus(work())); })) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many admin calls queued; retry"));
  }
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::RollUp(grpc::CallbackServerContext* context,
                                               const v1::RollUpRequest* request,
                                               v1::RollUpResponse* response) {
  return OnPool(context, domain::auth::method::kRollUp,
                [this, request, response]() -> absl::Status {
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
  return OnPool(
      context, domain::auth::method::kImportInvoice, [this, request, response]() -> absl::Status {
        absl::StatusOr<std::vector<domain::reports::Invoice>> invoices = FromProto(*request);
        if (!invoices.ok()) return invoices.status();
        if (absl::Status s = backend_.ImportInvoices(*invoices, request->source()); !s.ok())
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
  return OnPool(
      context, domain::auth::method::kListUnpriced, [this, request, response]() -> absl::Status {
        const absl::Time since =
            request->has_since() ? FromProto(request->since()) : absl::Now() - absl::Hours(24);
        const absl::Time until =
            request->has_until() ? FromProto(request->until()) : absl::InfiniteFuture();
        absl::StatusOr<std::vector<pricing::UnpricedGroup>> groups =
            backend_.ListUnpriced(since, until);
        if (!groups.ok()) return groups.status();
        ToProto(since, response->mutable_since());
        if (request->has_until()) *response->mutable_until() = request->until();
        for (const pricing::UnpricedGroup& g : *groups) ToProto(g, response->add_groups());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AdminService::LoadPriceCatalog(grpc::CallbackServerContext* context,
                                                         const v1::LoadPriceCatalogRequest* request,
                                                         v1::PriceVersionInfo* response) {
  return OnPool(context, domain::auth::method::kLoadPriceCatalog,
                [this, request, response]() -> absl::Status {
                  absl::StatusOr<pricing::CatalogTexts> texts = FromProto(*request);
                  if (!texts.ok()) return texts.status();
                  absl::StatusOr<pricing::PriceVersionInfo> info =
                      backend_.SavePriceVersion(*texts, absl::Now());
                  if (!info.ok()) return info.status();
                  ToProto(*info, response);
                  return absl::OkStatus();
                });
}

grpc::ServerUnaryReactor* AdminService::Reprice(grpc::CallbackServerContext* context,
                                                const v1::RepriceRequest* request,
                                                v1::RepriceResponse* response) {
  return OnPool(context, domain::auth::method::kReprice,
                [this, request, response]() -> absl::Status {
                  if (absl::Status s = CheckReprice(*request); !s.ok()) return s;
                  return RunReprice(*request, response);
                });
}

absl::Status AdminService::RunReprice(const v1::RepriceRequest& request,
                                      v1::RepriceResponse* response) {
  const absl::Time until =
      request.has_until() ? FromProto(request.until()) : absl::InfiniteFuture();
  absl::StatusOr<pricing::RepriceReport> report =
      backend_.Reprice(FromProto(request.since()), until, request.dry_run());
  if (!report.ok()) return report.status();
  ToProto(*report, response);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AdminService::QuotePrice(grpc::CallbackServerContext* context,
                                                   const v1::QuotePriceRequest* request,
                                                   v1::QuotePriceResponse* response) {
  return OnPool(
      context, domain::auth::method::kQuotePrice, [this, request, response]() -> absl::Status {
        absl::StatusOr<std::shared_ptr<const pricing::PriceVersion>> version =
            backend_.PriceVersionFor(request->catalog_text(), request->catalog_source(),
                                     absl::Now());
        if (!version.ok()) return version.status();
        absl::StatusOr<pricing::CallQuote> quote = pricing::QuoteCall(
            **version, request->provider(), request->model(),
            request->has_usage() ? std::optional<domain::Usage>(FromProto(request->usage()))
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
  return OnPool(
      context, domain::auth::method::kWhatIfBudget, [this, request, response]() -> absl::Status {
        const int days = request->days() == 0 ? kDefaultWhatIfDays : request->days();
        if (days < 1 || days > 400) return absl::InvalidArgumentError("days: must be 1..400");
        absl::StatusOr<std::vector<domain::budget::Cap>> caps = FromProto(*request);
        if (!caps.ok()) return caps.status();
        std::set<domain::Environment> environments;
        for (const domain::budget::Cap& cap : *caps) environments.insert(cap.environment);
        // From 00:00 UTC `days` days ago, so the first daily counter covers a whole day.
        const absl::Time until = absl::Now();
        const absl::Time since = absl::FromCivil(
            absl::ToCivilDay(until, absl::UTCTimeZone()) - days, absl::UTCTimeZone());
        absl::StatusOr<std::vector<domain::budget::HistoricalStep>> history =
            backend_.LoadBudgetHistory(
                since, until,
                std::vector<domain::Environment>(environments.begin(), environments.end()));
        if (!history.ok()) return history.status();
        absl::StatusOr<domain::budget::WhatIfReport> report =
            domain::budget::WhatIf(*caps, *history);
        if (!report.ok()) return report.status();
        ToProto(since, response->mutable_since());
        ToProto(until, response->mutable_until());
        response->set_days(days);
        response->set_caps(static_cast<int32_t>(caps->size()));
        ToProto(*report, response);
        return absl::OkStatus();
      });
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
  {
    absl::MutexLock lock(&tasks_mu_);
    ++running_tasks_;
  }
  if (!pool_.TrySchedule([this, id, work = std::move(work)] {
        v1::Operation result;
        const absl::Status status = work(id, result);
        operations_.Finish(id, AsSent(status), result);
        absl::MutexLock lock(&tasks_mu_);
        --running_tasks_;
      })) {
    operations_.Finish(id, absl::ResourceExhaustedError("not started: admin queue full"), {});
    {
      absl::MutexLock lock(&tasks_mu_);
      --running_tasks_;
    }
    reactor->Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many admin calls queued; retry"));
    return reactor;
  }
  *response = *std::move(op);
  reactor->Finish(grpc::Status::OK);
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
  if (absl::StatusOr<PrincipalPtr> caller =
          authorizer_.Authorize(*context, domain::auth::method::kStartReprice);
      !caller.ok()) {
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
      [this, request = *request](const std::string&, v1::Operation& result) {
        return RunReprice(request, result.mutable_reprice());
      },
      response);
}

grpc::ServerUnaryReactor* AdminService::GetOperation(grpc::CallbackServerContext* context,
                                                     const v1::GetOperationRequest* request,
                                                     v1::Operation* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::Operation> op = operations_.Get(request->id());
  // Whoever may start an operation of that kind may poll it: GetOperation's roles are
  // StartReprice's, and a rollup needs StartRollUp's (admin) as well.
  const std::string_view method = op.ok() && op->kind() == "rollup"
                                      ? domain::auth::method::kStartRollUp
                                      : domain::auth::method::kGetOperation;
  if (absl::StatusOr<PrincipalPtr> caller = authorizer_.Authorize(*context, method); !caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (op.ok()) *response = *std::move(op);
  reactor->Finish(ToGrpcStatus(op.status()));
  return reactor;
}

}  // namespace stepledger::transport
