#include "server/transport/reports_convert.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {
namespace {

namespace reports = domain::reports;

absl::StatusOr<absl::CivilDay> ParseDayField(const std::string& text, const char* field) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": expected a day YYYY-MM-DD, got '", text, "'"));
  }
  return day;
}

}  // namespace

std::string DayText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

absl::StatusOr<DayInterval> FromProto(const v1::DayRange& range, const std::string& field) {
  absl::StatusOr<absl::CivilDay> from =
      ParseDayField(range.from(), absl::StrCat(field, ".from").c_str());
  if (!from.ok()) return from.status();
  absl::StatusOr<absl::CivilDay> to = ParseDayField(range.to(), absl::StrCat(field, ".to").c_str());
  if (!to.ok()) return to.status();
  if (*to < *from) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".to: ", range.to(), " is before ", field, ".from ", range.from()));
  }
  return DayInterval{*from, *to};
}

void ToProto(const reports::InvoiceLine& inv, v1::InvoiceLine* p) {
  p->set_provider(inv.provider);
  p->set_month(absl::StrFormat("%04d-%02d", inv.month.year(), inv.month.month()));
  p->set_invoiced_nano_usd(inv.invoiced_nano_usd);
  p->set_attributed_nano_usd(inv.attributed_nano_usd);
  p->set_gap_nano_usd(inv.gap_nano_usd);
  p->set_gap_share(inv.gap_share);
  p->set_flagged(inv.flagged);
}

namespace {

void SpendLineToProto(const reports::SpendLine& line, v1::SpendLine* out) {
  out->set_key(line.key);
  out->set_spend_nano_usd(line.spend_nano_usd);
  out->set_steps(line.steps);
  out->set_unpriced_steps(line.unpriced_steps);
  out->set_has_budget(line.has_budget);
  out->set_budget_nano_usd(line.budget_nano_usd);
  out->set_prorated_budget_nano_usd(line.prorated_budget_nano_usd);
  out->set_variance_nano_usd(line.variance.variance_nano_usd);
  out->set_variance_share(line.variance.variance_share);
  out->set_over_budget(line.variance.over_budget);
  out->set_runs(line.runs);
  out->set_run_cost_p50_nano_usd(line.run_cost_p50_nano_usd);
  out->set_run_cost_p95_nano_usd(line.run_cost_p95_nano_usd);
  out->set_retry_steps(line.retry_steps);
  out->set_retry_spend_nano_usd(line.retry_spend_nano_usd);
  for (const auto& [model, spend] : line.top_models) {
    v1::ModelSpend* m = out->add_top_models();
    m->set_model(model);
    m->set_spend_nano_usd(spend);
  }
}

}  // namespace

absl::StatusOr<ShowbackQuery> FromProto(const v1::ShowbackRequest& request, absl::CivilDay today) {
  ShowbackQuery q;
  switch (request.period_case()) {
    case v1::ShowbackRequest::kMonth: {
      absl::CivilMonth month;
      if (request.month().size() != 7 || !absl::ParseCivilTime(request.month(), &month)) {
        return absl::InvalidArgumentError(
            absl::StrCat("month: expected YYYY-MM, got '", request.month(), "'"));
      }
      q.from = absl::CivilDay(month);
      q.to = absl::CivilDay(month + 1) - 1;
      break;
    }
    case v1::ShowbackRequest::kRange: {
      absl::StatusOr<DayInterval> range = FromProto(request.range(), "range");
      if (!range.ok()) return range.status();
      q.from = range->from;
      q.to = range->to;
      break;
    }
    case v1::ShowbackRequest::PERIOD_NOT_SET:
      q.from = absl::CivilDay(absl::CivilMonth(today));
      q.to = today;
      break;
  }
  if (!v1::Environment_IsValid(request.environment())) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment: unknown value ", static_cast<int>(request.environment())));
  }
  // "" (every environment) for ENVIRONMENT_UNSPECIFIED.
  q.environment = domain::ToString(EnvironmentFromProto(request.environment()));
  switch (request.format()) {
    case v1::REPORT_FORMAT_UNSPECIFIED:
      break;
    case v1::REPORT_FORMAT_TABLE:
      q.format = render::ReportFormat::kTable;
      break;
    case v1::REPORT_FORMAT_CSV:
      q.format = render::ReportFormat::kCsv;
      break;
    case v1::REPORT_FORMAT_JSON:
      q.format = render::ReportFormat::kJson;
      break;
    case v1::REPORT_FORMAT_FOCUS:
      q.format = render::ReportFormat::kFocus;
      break;
    case v1::REPORT_FORMAT_HTML:
      q.format = render::ReportFormat::kHtml;
      break;
    case v1::REPORT_FORMAT_UNPRICED:
      q.format = render::ReportFormat::kUnpriced;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("format: unknown value ", static_cast<int>(request.format())));
  }
  q.roll_up_missing = request.roll_up_missing();
  return q;
}

v1::ReportFormat ToProto(render::ReportFormat format) {
  switch (format) {
    case render::ReportFormat::kTable:
      return v1::REPORT_FORMAT_TABLE;
    case render::ReportFormat::kCsv:
      return v1::REPORT_FORMAT_CSV;
    case render::ReportFormat::kJson:
      return v1::REPORT_FORMAT_JSON;
    case render::ReportFormat::kFocus:
      return v1::REPORT_FORMAT_FOCUS;
    case render::ReportFormat::kHtml:
      return v1::REPORT_FORMAT_HTML;
    case render::ReportFormat::kUnpriced:
      return v1::REPORT_FORMAT_UNPRICED;
  }
  return v1::REPORT_FORMAT_UNSPECIFIED;
}

void ToProto(const reports::ShowbackReport& report, v1::Environment environment,
             v1::ShowbackReport* out) {
  out->set_from(DayText(report.from));
  out->set_to(DayText(report.to));
  out->set_through(report.through < report.from ? "" : DayText(report.through));
  out->set_environment(environment);
  const int64_t nanos = absl::ToUnixNanos(report.generated_at);
  out->mutable_generated_at()->set_seconds(nanos / 1000000000);
  out->mutable_generated_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  out->set_budgets_available(report.budgets_available);
  out->set_spend_nano_usd(report.spend_nano_usd);
  out->set_total_spend_nano_usd(report.total_spend_nano_usd);
  for (const auto& line : report.teams) SpendLineToProto(line, out->add_teams());
  for (const auto& line : report.features) SpendLineToProto(line, out->add_features());
  for (const auto& t : report.tenants) {
    v1::TenantLine* p = out->add_tenants();
    p->set_tenant(t.tenant);
    p->set_spend_nano_usd(t.spend_nano_usd);
    p->set_share(t.share);
    p->set_margin_risk(t.margin_risk);
    p->set_unattributed(t.unattributed);
  }
  for (const auto& t : report.tool_owners) {
    v1::ToolOwnerLine* p = out->add_tool_owners();
    p->set_tool_owner_team(t.tool_owner_team);
    p->set_charged_team(t.charged_team);
    p->set_charged_feature(t.charged_feature);
    p->set_steps(t.steps);
    p->set_spend_nano_usd(t.spend_nano_usd);
  }
  const reports::DataQuality& dq = report.data_quality;
  v1::DataQuality* q = out->mutable_data_quality();
  q->set_total_spend_nano_usd(dq.total_spend_nano_usd);
  q->set_unattributed_spend_nano_usd(dq.unattributed_spend_nano_usd);
  q->set_unattributed_share(dq.unattributed_share);
  for (const auto& u : dq.unattributed) {
    v1::UnattributedLine* p = q->add_unattributed();
    p->set_source(u.source);
    p->set_reason(u.reason);
    p->set_count(u.count);
    p->set_spend_nano_usd(u.spend_nano_usd);
    p->set_share(u.share);
  }
  q->set_unpriced_steps(dq.unpriced_steps);
  q->set_drift_steps(dq.drift_steps);
  q->set_pending_steps(dq.pending_steps);
  q->set_pending_spend_nano_usd(dq.pending_spend_nano_usd);
  q->set_correction_spend_nano_usd(dq.correction_spend_nano_usd);
  q->set_quarantined_spend_nano_usd(dq.quarantined_spend_nano_usd);
  for (const auto& u : report.unpriced) {
    v1::UnpricedLine* p = out->add_unpriced();
    p->set_day(DayText(u.day));
    p->set_source(u.source);
    p->set_reason(u.reason);
    p->set_steps(u.steps);
    p->set_tokens(u.tokens);
    p->set_team(u.team);
    p->set_feature(u.feature);
    p->set_tenant(u.tenant);
    p->set_environment(u.environment);
    p->set_run(u.run);
    p->set_kind(u.kind);
    p->set_provider(u.provider);
    p->set_model(u.model);
    p->set_tool_name(u.tool_name);
  }
  q->set_unpriced_quarantined_events(dq.unpriced_quarantined_events);
  for (const auto& inv : report.invoices) ToProto(inv, out->add_invoices());
  for (absl::CivilDay day : report.missing_days) out->add_missing_days(DayText(day));
}

}  // namespace stepledger::transport
