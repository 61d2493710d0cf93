#include "server/transport/admin_convert.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "server/transport/budget_convert.h"
#include "server/transport/reports_convert.h"

namespace stepledger::transport {
namespace {

namespace pricing = domain::pricing;

void RatesToProto(const pricing::TokenRates& rates, v1::TokenRates* out) {
  if (rates.input) out->set_input(*rates.input);
  if (rates.output) out->set_output(*rates.output);
  if (rates.cache_read) out->set_cache_read(*rates.cache_read);
  if (rates.cache_write) out->set_cache_write(*rates.cache_write);
  if (rates.cache_write_1h) out->set_cache_write_1h(*rates.cache_write_1h);
  if (rates.reasoning) out->set_reasoning(*rates.reasoning);
}

void TallyToProto(const domain::budget::WhatIfTally& tally, v1::WhatIfTally* out) {
  out->set_steps(tally.steps);
  out->set_runs(tally.runs);
  out->set_cost_nano_usd(tally.cost_nano_usd);
}

void RowToProto(const std::string& name, const domain::budget::WhatIfRow& row, v1::WhatIfRow* out) {
  out->set_name(name);
  TallyToProto(row.alert, out->mutable_alert());
  TallyToProto(row.require_ack, out->mutable_require_ack());
}

}  // namespace

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

void ToProto(const domain::reports::RollupRunResult& run, v1::RollUpResponse* out) {
  for (const domain::reports::RollupDayResult& d : run.days) {
    v1::RolledUpDay* day = out->add_days();
    day->set_day(DayText(d.day));
    day->set_first_roll(d.first_roll);
    day->set_retired(d.retired);
    day->set_source_rows(d.source_rows);
    day->set_total_cost_nano_usd(d.total_cost_nano_usd);
    day->set_correction_cost_nano_usd(d.correction_cost_nano_usd);
  }
}

absl::StatusOr<std::vector<domain::reports::Invoice>> FromProto(
    const v1::ImportInvoiceRequest& request) {
  if (request.provider().empty()) return absl::InvalidArgumentError("provider: required");
  if (request.months().empty()) {
    return absl::InvalidArgumentError("months: at least one month is required");
  }
  std::vector<domain::reports::Invoice> invoices;
  std::set<absl::CivilMonth> seen;
  for (int i = 0; i < request.months_size(); ++i) {
    const v1::InvoiceMonth& m = request.months(i);
    absl::CivilMonth month;
    if (m.month().size() != 7 || !absl::ParseCivilTime(m.month(), &month)) {
      return absl::InvalidArgumentError(
          absl::StrCat("months[", i, "].month: expected YYYY-MM, got '", m.month(), "'"));
    }
    if (!seen.insert(month).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("months[", i, "].month: ", m.month(), " is listed twice"));
    }
    if (m.amount_nano_usd() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("months[", i, "].amount_nano_usd: negative"));
    }
    invoices.push_back({request.provider(), month, m.amount_nano_usd()});
  }
  return invoices;
}

void ToProto(const pricing::UnpricedGroup& group, v1::UnpricedGroup* out) {
  out->set_model(group.model);
  out->set_tool_name(group.tool_name);
  out->set_reason(group.reason);
  out->set_steps(group.steps);
  ToProto(group.first_seen, out->mutable_first_seen());
  ToProto(group.last_seen, out->mutable_last_seen());
}

absl::StatusOr<pricing::CatalogTexts> FromProto(const v1::LoadPriceCatalogRequest& request) {
  if (request.model_text().empty()) {
    return absl::InvalidArgumentError("model_text: the LiteLLM JSON catalog is required");
  }
  return pricing::CatalogTexts{request.model_source(), request.model_text(), request.tool_source(),
                               request.tool_text()};
}

void ToProto(const pricing::PriceVersionInfo& info, v1::PriceVersionInfo* out) {
  out->set_id(info.id);
  ToProto(info.effective_from, out->mutable_effective_from());
  ToProto(info.loaded_at, out->mutable_loaded_at());
  out->set_model_source(info.model_source);
  out->set_tool_source(info.tool_source);
  out->set_checksum(info.checksum);
  out->set_model_count(info.model_count);
  out->set_tool_count(info.tool_count);
  out->set_created(info.created);
}

void ToProto(const pricing::RepriceReport& report, v1::RepriceResponse* out) {
  for (const pricing::Correction& c : report.corrections) {
    v1::PriceCorrection* p = out->add_corrections();
    p->set_event_id(c.event_id);
    ToProto(c.occurred_at, p->mutable_occurred_at());
    p->set_parent_run_id(c.parent_run_id);
    p->set_model(c.model);
    if (c.old_cost_nano_usd.has_value()) p->set_old_cost_nano_usd(*c.old_cost_nano_usd);
    p->set_new_cost_nano_usd(c.new_cost_nano_usd);
    p->set_delta_nano_usd(c.delta_nano_usd);
    p->set_price_version(c.price_version);
    p->set_reason(c.reason);
  }
  out->set_total_delta_nano_usd(report.total_delta_nano_usd);
  out->set_examined(report.examined);
  out->set_still_unpriced(report.still_unpriced);
  out->set_dry_run(report.dry_run);
}

domain::Usage FromProto(const v1::Usage& u) {
  domain::Usage usage;
  if (u.has_input_uncached_tokens()) usage.input_uncached_tokens = u.input_uncached_tokens();
  if (u.has_cache_read_tokens()) usage.cache_read_tokens = u.cache_read_tokens();
  if (u.has_cache_write_tokens()) usage.cache_write_tokens = u.cache_write_tokens();
  if (u.has_output_tokens()) usage.output_tokens = u.output_tokens();
  if (u.has_reasoning_tokens()) usage.reasoning_tokens = u.reasoning_tokens();
  return usage;
}

namespace {

void ModelToProto(const pricing::ModelPrice& price, v1::QuotePriceResponse* out) {
  out->set_model(price.name);
  out->set_provider(price.provider);
  out->set_mode(price.mode);
  for (const auto& [tier, prices] : price.tiers) {
    v1::TierRates* t = out->add_tiers();
    t->set_tier(std::string(pricing::ToString(tier)));
    RatesToProto(prices.base, t->mutable_base());
    for (const auto& [threshold, rates] : prices.above_threshold) {
      v1::ThresholdRates* above = t->add_above_threshold();
      above->set_above_input_tokens(threshold);
      RatesToProto(rates, above->mutable_rates());
    }
  }
}

void QuoteToProto(const pricing::ModelQuoteResult& result, pricing::ServiceTier tier,
                  v1::QuotePriceResponse* out) {
  out->set_tier(std::string(pricing::ToString(tier)));
  if (!result.quote.has_value()) {
    out->set_quoted(false);
    out->set_unpriced_reason(std::string(pricing::ToString(result.unpriced_reason)));
    return;
  }
  const pricing::ModelQuote& q = *result.quote;
  out->set_quoted(true);
  if (q.rates.above_threshold_tokens)
    out->set_above_threshold_tokens(*q.rates.above_threshold_tokens);
  v1::TokenRates* rates = out->mutable_rates_used();
  rates->set_input(q.rates.input);
  rates->set_output(q.rates.output);
  rates->set_cache_read(q.rates.cache_read);
  rates->set_cache_write(q.rates.cache_write);
  rates->set_reasoning(q.rates.reasoning);
  out->set_input_uncached_tokens(q.input_uncached_tokens);
  out->set_cache_read_tokens(q.cache_read_tokens);
  out->set_cache_write_tokens(q.cache_write_tokens);
  out->set_output_tokens(q.output_tokens);
  out->set_reasoning_tokens(q.reasoning_tokens);
  out->set_cost_nano_usd(q.cost_nano_usd);
}

}  // namespace

void ToProto(const pricing::CallQuote& quote, const pricing::PriceVersion& version,
             v1::QuotePriceResponse* out) {
  ModelToProto(*quote.price, out);
  out->set_catalog(version.id);
  if (quote.result.has_value()) QuoteToProto(*quote.result, quote.tier, out);
}

absl::StatusOr<std::vector<domain::budget::Cap>> FromProto(const v1::WhatIfBudgetRequest& request) {
  if (request.caps().empty()) return absl::InvalidArgumentError("caps: at least one cap");
  std::vector<domain::budget::Cap> caps;
  for (int i = 0; i < request.caps_size(); ++i) {
    absl::StatusOr<domain::budget::Cap> cap = FromProto(request.caps(i));
    if (!cap.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("caps[", i, "].", cap.status().message()));
    }
    if (cap->id.empty()) cap->id = absl::StrCat("proposed-", i);
    if (cap->owner.empty()) cap->owner = "whatif";
    if (cap->signed_off_by.empty()) cap->signed_off_by = "whatif";
    caps.push_back(*std::move(cap));
  }
  return caps;
}

void ToProto(const domain::budget::WhatIfReport& report, v1::WhatIfBudgetResponse* out) {
  TallyToProto(report.replayed, out->mutable_replayed());
  RowToProto("", report.total, out->mutable_total());
  for (const auto& [name, row] : report.by_team) RowToProto(name, row, out->add_by_team());
  for (const auto& [name, row] : report.by_feature) RowToProto(name, row, out->add_by_feature());
  for (const auto& [name, row] : report.by_cap) RowToProto(name, row, out->add_by_cap());
}

absl::Status CheckReason(const std::string& reason) {
  if (reason.size() > kMaxReasonBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("reason: at most ", kMaxReasonBytes, " bytes (got ", reason.size(), ")"));
  }
  return absl::OkStatus();
}

void ToProto(const domain::auth::AdminAuditRecord& record, v1::AdminAuditEntry* out) {
  out->set_id(record.id);
  out->set_action(record.action);
  out->set_actor(record.actor.identity);
  out->set_note(record.actor.note);
  out->set_detail_json(record.detail_json);
  ToProto(record.changed_at, out->mutable_changed_at());
}

}  // namespace stepledger::transport
