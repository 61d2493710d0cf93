#include "server/render/render.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "server/render/render_internal.h"

namespace stepledger::render {

using domain::reports::DataQuality;
using domain::reports::kChargeClassCorrection;
using domain::reports::RollupRow;
using domain::reports::Share;
using domain::reports::SpendLine;
namespace internal {

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += CsvField(fields[i]);
  }
  return out + "\n";
}

std::string Day(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}
std::string Month(absl::CivilMonth m) { return absl::StrFormat("%04d-%02d", m.year(), m.month()); }
std::string Pct(double share) { return absl::StrFormat("%.1f%%", share * 100); }
std::string Usd(int64_t nano) { return FormatUsd(nano, 2); }

std::string Money(int64_t nano, int decimals) {
  const std::string digits = FormatUsd(nano, decimals);  // exact rounding, one home
  const bool negative = digits[0] == '-';
  const std::string body = negative ? digits.substr(1) : digits;
  const size_t dot = std::min(body.find('.'), body.size());
  const std::string whole = body.substr(0, dot);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(whole[i]);
  }
  return absl::StrCat(negative ? "-$" : "$", grouped, body.substr(dot));
}

std::string Shorten(const std::string& text, size_t max) {
  if (text.size() <= max || max < 4) return text;
  return text.substr(0, max - 3) + "...";
}

std::string ReasonInWords(const std::string& source, const std::string& reason) {
  if (source == "ledger") {
    if (reason == "defaulted") {
      return "Sent outside production without its tags (the \"(unattributed)\" bucket)";
    }
    if (absl::StartsWith(reason, "quarantined: root_never_arrived")) {
      return "Waited for its run's first step to inherit tags, which never arrived";
    }
    if (absl::StartsWith(reason, "quarantined")) {
      return absl::StrCat("Could not be charged to anyone",
                          reason.size() > 13 ? absl::StrCat(" (", reason.substr(13), ")") : "");
    }
    return absl::StrReplaceAll(reason, {{"_", " "}});
  }
  // Rejected events: the validation message, with tag forms in words.
  std::string out = absl::StrReplaceAll(
      reason, {{"[a-z0-9][a-z0-9._-]{0,63}",
                "a lower-case name of up to 64 letters, digits, dots, dashes or underscores"},
               {"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}",
                "an id of up to 128 letters, digits, dots, colons, dashes or underscores"},
               {"missing: required in production (form ",
                "a required tag was missing in "
                "production (expected "},
               {"malformed: ", "a value was malformed: "},
               {"must match ", "should be "}});
  if (!out.empty()) out[0] = static_cast<char>(absl::ascii_toupper(out[0]));
  return absl::StrCat("Rejected: ", out);
}

std::string UnpricedReasonInWords(const std::string& reason) {
  static const auto* kWords = new std::vector<std::pair<std::string, std::string>>{
      {"unknown_model", "model not in the price catalog"},
      {"unknown_tool", "tool not in the tool price file"},
      {"unknown_tier", "no price for the requested service tier"},
      {"missing_usage", "no token counts were sent"},
      {"invalid_usage", "token counts could not be priced"},
      {"missing_units", "no tool units were sent"},
      {"nothing_to_price", "nothing to price"},
      {"overflow", "amount too large to price"},
      {"no_price_version", "no price catalog was in force"},
      {"cost_not_reported", "rejected event without a reported cost"},
      {"unknown", "reason not recorded"}};
  for (const auto& [code, words] : *kWords) {
    if (reason == code) return words;
  }
  return absl::StrReplaceAll(reason, {{"_", " "}});
}

std::string TopModels(const SpendLine& l) {
  std::vector<std::string> parts;
  for (const auto& [model, spend] : l.top_models)
    parts.push_back(absl::StrCat(model, " ", Usd(spend)));
  return absl::StrJoin(parts, "; ");
}

std::string Flag(const SpendLine& l) {
  if (!l.has_budget) return "no budget";
  return l.variance.over_budget ? "OVER" : "ok";
}

std::string PeriodText(const ShowbackReport& r) {
  return absl::StrCat(Day(r.from), " .. ", Day(r.to), " (rolled up through ",
                      r.through < r.from ? std::string("none") : Day(r.through), ")",
                      r.environment.empty() ? "" : absl::StrCat(", environment ", r.environment));
}

std::vector<std::string> SpendRow(const SpendLine& l) {
  return {l.key,
          Usd(l.spend_nano_usd),
          l.has_budget ? Usd(l.budget_nano_usd) : "-",
          l.has_budget ? Usd(l.prorated_budget_nano_usd) : "-",
          l.has_budget ? Usd(l.variance.variance_nano_usd) : "-",
          Flag(l),
          absl::StrCat(l.runs),
          FormatUsd(l.run_cost_p50_nano_usd, 4),
          FormatUsd(l.run_cost_p95_nano_usd, 4),
          Usd(l.retry_spend_nano_usd),
          TopModels(l)};
}

std::vector<std::string> CapRow(const domain::reports::CapLine& c) {
  return {absl::StrCat(c.scope, " ", c.key),
          c.period == domain::reports::CapPeriod::kDaily ? "daily" : "monthly",
          Usd(c.budget_nano_usd),
          Usd(c.spend_nano_usd),
          Pct(Share(c.spend_nano_usd, c.budget_nano_usd)),
          absl::StrCat(Usd(c.burn_nano_usd_per_day), "/day"),
          Usd(c.forecast_nano_usd),
          c.forecast_over ? "forecast OVER budget" : "ok"};
}

const std::vector<std::string>& CapHeader() {
  static const auto* kHeader = new std::vector<std::string>{
      "cap", "period", "budget", "spent", "used", "burn rate", "forecast", "flag"};
  return *kHeader;
}

const std::vector<std::string>& SpendHeader(const std::string& first) {
  static const auto* kTeam =
      new std::vector<std::string>{"team", "spend",   "budget",  "prorated",    "variance",  "flag",
                                   "runs", "run p50", "run p95", "retry spend", "top models"};
  static const auto* kFeature = new std::vector<std::string>{
      "feature", "spend",   "budget",  "prorated",    "variance",  "flag",
      "runs",    "run p50", "run p95", "retry spend", "top models"};
  return first == "team" ? *kTeam : *kFeature;
}

}  // namespace internal

using internal::CapHeader;
using internal::CapRow;
using internal::CsvLine;
using internal::Day;
using internal::Flag;
using internal::Month;
using internal::Pct;
using internal::PeriodText;
using internal::SpendHeader;
using internal::SpendRow;
using internal::TopModels;
using internal::Usd;

namespace {

// Plain-text table with left-aligned first column and right-aligned others.
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out;
    for (size_t i = 0; i < r.size(); ++i) {
      const std::string pad(width[i] - r[i].size(), ' ');
      out += i == 0 ? r[i] + pad : pad + r[i];
      out += i + 1 < r.size() ? "  " : "";
    }
    return out + "\n";
  };
  std::string out = line(header);
  size_t total = 0;
  for (size_t w : width) total += w + 2;
  out += std::string(total > 2 ? total - 2 : 0, '-') + "\n";
  for (const auto& r : rows) out += line(r);
  return out;
}

}  // namespace

absl::StatusOr<ReportFormat> ParseReportFormat(std::string_view name) {
  if (name == "table") return ReportFormat::kTable;
  if (name == "csv") return ReportFormat::kCsv;
  if (name == "json") return ReportFormat::kJson;
  if (name == "focus") return ReportFormat::kFocus;
  if (name == "html") return ReportFormat::kHtml;
  if (name == "unpriced") return ReportFormat::kUnpriced;
  return absl::InvalidArgumentError(absl::StrCat("unknown format '", std::string(name),
                                                 "' (table, csv, json, focus, html, unpriced)"));
}

std::string_view FormatName(ReportFormat f) {
  switch (f) {
    case ReportFormat::kTable:
      return "table";
    case ReportFormat::kCsv:
      return "csv";
    case ReportFormat::kJson:
      return "json";
    case ReportFormat::kFocus:
      return "focus";
    case ReportFormat::kHtml:
      return "html";
    case ReportFormat::kUnpriced:
      return "unpriced";
  }
  return "table";
}

std::string_view FileExtension(ReportFormat f) {
  switch (f) {
    case ReportFormat::kTable:
      return "txt";
    case ReportFormat::kCsv:
      return "csv";
    case ReportFormat::kJson:
      return "json";
    case ReportFormat::kFocus:
      return "focus.csv";
    case ReportFormat::kHtml:
      return "html";
    case ReportFormat::kUnpriced:
      return "unpriced.csv";
  }
  return "txt";
}

const std::vector<ReportFormat>& AllReportFormats() {
  static const auto* kAll = new std::vector<ReportFormat>{
      ReportFormat::kTable, ReportFormat::kCsv,  ReportFormat::kJson,
      ReportFormat::kFocus, ReportFormat::kHtml, ReportFormat::kUnpriced};
  return *kAll;
}

std::string FormatUsd(int64_t nano_usd, int decimals) {
  decimals = std::clamp(decimals, 0, 9);
  const bool negative = nano_usd < 0;
  // Work in unsigned magnitude so INT64_MIN does not overflow.
  uint64_t mag = negative ? ~static_cast<uint64_t>(nano_usd) + 1 : static_cast<uint64_t>(nano_usd);
  uint64_t scale = 1;
  for (int i = 0; i < 9 - decimals; ++i) scale *= 10;
  mag = (mag + scale / 2) / scale;  // round half away from zero to `decimals`
  uint64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  std::string out = absl::StrCat(negative && mag != 0 ? "-" : "", mag / unit);
  if (decimals > 0) absl::StrAppend(&out, ".", absl::StrFormat("%0*d", decimals, mag % unit));
  return out;
}

std::string RenderTable(const ShowbackReport& r) {
  std::string out =
      absl::StrCat("Showback ", PeriodText(r), "\n", "Total spend: $", Usd(r.total_spend_nano_usd),
                   " USD (teams $", Usd(r.spend_nano_usd), " + quarantined, unattributed $",
                   Usd(r.data_quality.quarantined_spend_nano_usd), ")\n");
  if (!r.budgets_available) out += "(no budgets table: budgets not shown)\n";
  if (!r.missing_days.empty()) {
    absl::StrAppend(
        &out, "Not rolled up yet (their spend is not in these figures): ", r.missing_days.size(),
        r.missing_days.size() == 1 ? " day, " : " days, ", Day(r.missing_days.front()), " .. ",
        Day(r.missing_days.back()), "; fill them with: stepledger rollup --from ",
        Day(r.missing_days.front()), " --to ", Day(r.missing_days.back()), "\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : r.teams) rows.push_back(SpendRow(l));
  absl::StrAppend(&out, "\nBy team\n", Table(SpendHeader("team"), rows));
  rows.clear();
  for (const auto& l : r.features) rows.push_back(SpendRow(l));
  absl::StrAppend(&out, "\nBy feature\n", Table(SpendHeader("feature"), rows));
  rows.clear();
  for (const auto& t : r.tenants) {
    rows.push_back({t.tenant, Usd(t.spend_nano_usd), Pct(t.share),
                    t.unattributed  ? "no tenant tag (not a tenant)"
                    : t.margin_risk ? "MARGIN RISK (>10x median)"
                                    : ""});
  }
  absl::StrAppend(&out, "\nBy tenant\n", Table({"tenant", "spend", "share", "flag"}, rows));
  rows.clear();
  for (const auto& t : r.tool_owners) {
    rows.push_back({t.tool_owner_team, t.charged_team, t.charged_feature, absl::StrCat(t.steps),
                    Usd(t.spend_nano_usd)});
  }
  absl::StrAppend(&out, "\nTool owners: work performed for other teams\n",
                  Table({"tool owner", "for team", "for feature", "steps", "spend"}, rows));
  const DataQuality& dq = r.data_quality;
  absl::StrAppend(&out, "\nData quality\n",
                  "  unattributed spend: ", Usd(dq.unattributed_spend_nano_usd), " (",
                  Pct(dq.unattributed_share), " of ", Usd(dq.total_spend_nano_usd), ")\n");
  for (const auto& u : dq.unattributed) {
    absl::StrAppend(&out, "    ", u.source, " ", u.reason, ": ", u.count, " events, ",
                    Usd(u.spend_nano_usd), " (", Pct(u.share), ")\n");
  }
  absl::StrAppend(
      &out, "  unpriced steps (no amount, not in any total; --format unpriced lists them): ",
      dq.unpriced_steps, "\n",
      "  quarantined events without a reported cost: ", dq.unpriced_quarantined_events, "\n",
      "  tag drift steps: ", dq.drift_steps, "\n", "  pending inheritance: ", dq.pending_steps,
      " steps, ", Usd(dq.pending_spend_nano_usd), "\n",
      "  corrections (arrived after rollup): ", Usd(dq.correction_spend_nano_usd), "\n");
  if (!r.caps.empty()) {
    rows.clear();
    for (const auto& c : r.caps) rows.push_back(CapRow(c));
    absl::StrAppend(&out, "\nBudget caps: spend so far and forecast to ", Day(r.to), "\n",
                    Table(CapHeader(), rows));
  }
  if (!r.invoices.empty()) {
    rows.clear();
    for (const auto& i : r.invoices) {
      rows.push_back({i.provider, Month(i.month), Usd(i.invoiced_nano_usd),
                      Usd(i.attributed_nano_usd), Usd(i.gap_nano_usd), Pct(i.gap_share),
                      i.flagged ? "GAP > 5%: investigate" : "ok"});
    }
    absl::StrAppend(
        &out, "\nInvoices\n",
        Table({"provider", "month", "invoiced", "attributed", "gap", "gap %", "flag"}, rows));
  }
  return out;
}

std::string RenderCsv(const ShowbackReport& r) {
  std::string out =
      CsvLine({"section", "key", "for_team", "for_feature", "spend_usd", "budget_usd",
               "prorated_budget_usd", "variance_usd", "flag", "runs", "run_cost_p50_usd",
               "run_cost_p95_usd", "retry_spend_usd", "share", "count", "top_models"});
  auto spend = [&](const std::string& section, const SpendLine& l) {
    out += CsvLine({section, l.key, "", "", FormatUsd(l.spend_nano_usd),
                    l.has_budget ? FormatUsd(l.budget_nano_usd) : "",
                    l.has_budget ? FormatUsd(l.prorated_budget_nano_usd) : "",
                    l.has_budget ? FormatUsd(l.variance.variance_nano_usd) : "",
                    l.has_budget ? (l.variance.over_budget ? "over_budget" : "ok") : "no_budget",
                    absl::StrCat(l.runs), FormatUsd(l.run_cost_p50_nano_usd),
                    FormatUsd(l.run_cost_p95_nano_usd), FormatUsd(l.retry_spend_nano_usd),
                    absl::StrFormat("%.6f", Share(l.spend_nano_usd, r.spend_nano_usd)),
                    absl::StrCat(l.steps), TopModels(l)});
  };
  for (const auto& l : r.teams) spend("team", l);
  for (const auto& l : r.features) spend("feature", l);
  for (const auto& t : r.tenants) {
    out += CsvLine({"tenant", t.tenant, "", "", FormatUsd(t.spend_nano_usd), "", "", "",
                    t.unattributed  ? "unattributed_bucket"
                    : t.margin_risk ? "margin_risk"
                                    : "",
                    "", "", "", "", absl::StrFormat("%.6f", t.share), "", ""});
  }
  for (const auto& t : r.tool_owners) {
    out += CsvLine({"tool_owner", t.tool_owner_team, t.charged_team, t.charged_feature,
                    FormatUsd(t.spend_nano_usd), "", "", "", "", "", "", "", "", "",
                    absl::StrCat(t.steps), ""});
  }
  const DataQuality& dq = r.data_quality;
  for (const auto& u : dq.unattributed) {
    out += CsvLine({"unattributed", absl::StrCat(u.source, ":", u.reason), "", "",
                    FormatUsd(u.spend_nano_usd), "", "", "", "", "", "", "", "",
                    absl::StrFormat("%.6f", u.share), absl::StrCat(u.count), ""});
  }
  out += CsvLine({"data_quality", "unattributed_total", "", "",
                  FormatUsd(dq.unattributed_spend_nano_usd), "", "", "", "", "", "", "", "",
                  absl::StrFormat("%.6f", dq.unattributed_share), "", ""});
  out += CsvLine({"data_quality", "unpriced_steps", "", "", "", "", "", "", "", "", "", "", "", "",
                  absl::StrCat(dq.unpriced_steps), ""});
  out += CsvLine({"data_quality", "unpriced_quarantined_events", "", "", "", "", "", "", "", "", "",
                  "", "", "", absl::StrCat(dq.unpriced_quarantined_events), ""});
  out += CsvLine({"data_quality", "drift_steps", "", "", "", "", "", "", "", "", "", "", "", "",
                  absl::StrCat(dq.drift_steps), ""});
  out += CsvLine({"data_quality", "pending_steps", "", "", FormatUsd(dq.pending_spend_nano_usd), "",
                  "", "", "", "", "", "", "", "", absl::StrCat(dq.pending_steps), ""});
  out += CsvLine({"data_quality", "corrections", "", "", FormatUsd(dq.correction_spend_nano_usd),
                  "", "", "", "", "", "", "", "", "", "", ""});
  // The report's total: the team rows plus the quarantine rows of `unattributed`.
  out += CsvLine({"total", "all", "", "", FormatUsd(r.total_spend_nano_usd), "", "", "", "", "", "",
                  "", "", "", "", ""});
  for (const auto& i : r.invoices) {
    out += CsvLine({"invoice", i.provider, "", Month(i.month), FormatUsd(i.attributed_nano_usd),
                    FormatUsd(i.invoiced_nano_usd), "", FormatUsd(i.gap_nano_usd),
                    i.flagged ? "gap_over_5pct" : "ok", "", "", "", "",
                    absl::StrFormat("%.6f", i.gap_share), "", ""});
  }
  return out;
}

std::string RenderJson(const ShowbackReport& r) {
  using Json = nlohmann::ordered_json;
  // Amounts twice: exact nano-USD integers and USD strings; shares rounded to 6 decimals.
  auto money = [](Json& o, const std::string& name, int64_t nano) {
    o[name + "_nano_usd"] = nano;
    o[name + "_usd"] = FormatUsd(nano);
  };
  auto share = [](double v) { return std::round(v * 1e6) / 1e6; };
  auto lines = [&](const std::vector<SpendLine>& ls) {
    Json items = Json::array();
    for (const SpendLine& l : ls) {
      Json o;
      o["key"] = l.key;
      money(o, "spend", l.spend_nano_usd);
      o["steps"] = l.steps;
      o["unpriced_steps"] = l.unpriced_steps;
      o["has_budget"] = l.has_budget;
      money(o, "budget", l.budget_nano_usd);
      money(o, "prorated_budget", l.prorated_budget_nano_usd);
      money(o, "variance", l.variance.variance_nano_usd);
      o["variance_share"] = share(l.variance.variance_share);
      o["over_budget"] = l.variance.over_budget;
      o["runs"] = l.runs;
      money(o, "run_cost_p50", l.run_cost_p50_nano_usd);
      money(o, "run_cost_p95", l.run_cost_p95_nano_usd);
      o["retry_steps"] = l.retry_steps;
      money(o, "retry_spend", l.retry_spend_nano_usd);
      Json models = Json::array();
      for (const auto& [m, s] : l.top_models) {
        Json model;
        model["model"] = m;
        money(model, "spend", s);
        models.push_back(std::move(model));
      }
      o["top_models"] = std::move(models);
      items.push_back(std::move(o));
    }
    return items;
  };
  Json doc;
  doc["from"] = Day(r.from);
  doc["to"] = Day(r.to);
  doc["through"] = r.through < r.from ? Json(nullptr) : Json(Day(r.through));
  doc["environment"] = r.environment;
  doc["generated_at"] = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", r.generated_at, absl::UTCTimeZone());
  doc["budgets_available"] = r.budgets_available;
  money(doc, "total_spend", r.total_spend_nano_usd);  // spend + quarantined
  money(doc, "spend", r.spend_nano_usd);
  doc["currency"] = "USD";
  doc["missing_days"] = Json::array();
  for (absl::CivilDay d : r.missing_days) doc["missing_days"].push_back(Day(d));
  doc["teams"] = lines(r.teams);
  doc["features"] = lines(r.features);
  doc["tenants"] = Json::array();
  for (const auto& t : r.tenants) {
    Json o;
    o["tenant"] = t.tenant;
    money(o, "spend", t.spend_nano_usd);
    o["share"] = share(t.share);
    o["margin_risk"] = t.margin_risk;
    o["unattributed"] = t.unattributed;
    doc["tenants"].push_back(std::move(o));
  }
  doc["tool_owners"] = Json::array();
  for (const auto& t : r.tool_owners) {
    Json o;
    o["tool_owner_team"] = t.tool_owner_team;
    o["charged_team"] = t.charged_team;
    o["charged_feature"] = t.charged_feature;
    o["steps"] = t.steps;
    money(o, "spend", t.spend_nano_usd);
    doc["tool_owners"].push_back(std::move(o));
  }
  const DataQuality& dq = r.data_quality;
  Json quality;
  money(quality, "total_spend", dq.total_spend_nano_usd);
  money(quality, "unattributed_spend", dq.unattributed_spend_nano_usd);
  quality["unattributed_share"] = share(dq.unattributed_share);
  quality["unattributed"] = Json::array();
  for (const auto& u : dq.unattributed) {
    Json o;
    o["source"] = u.source;
    o["reason"] = u.reason;
    o["count"] = u.count;
    money(o, "spend", u.spend_nano_usd);
    o["share"] = share(u.share);
    quality["unattributed"].push_back(std::move(o));
  }
  money(quality, "quarantined_spend", dq.quarantined_spend_nano_usd);
  quality["unpriced_steps"] = dq.unpriced_steps;
  quality["unpriced_quarantined_events"] = dq.unpriced_quarantined_events;
  quality["drift_steps"] = dq.drift_steps;
  quality["pending_steps"] = dq.pending_steps;
  money(quality, "pending_spend", dq.pending_spend_nano_usd);
  money(quality, "correction_spend", dq.correction_spend_nano_usd);
  doc["data_quality"] = std::move(quality);
  doc["caps"] = Json::array();
  for (const auto& c : r.caps) {
    Json o;
    o["scope"] = c.scope;
    o["key"] = c.key;
    o["period"] = c.period == domain::reports::CapPeriod::kDaily ? "daily" : "monthly";
    money(o, "limit", c.limit_nano_usd);
    money(o, "budget", c.budget_nano_usd);
    money(o, "spend", c.spend_nano_usd);
    o["elapsed_days"] = c.elapsed_days;
    money(o, "burn_per_day", c.burn_nano_usd_per_day);
    money(o, "forecast", c.forecast_nano_usd);
    o["forecast_over_budget"] = c.forecast_over;
    doc["caps"].push_back(std::move(o));
  }
  doc["unpriced"] = Json::array();
  for (const auto& u : r.unpriced) {
    Json o;
    o["day"] = Day(u.day);
    o["source"] = u.source;
    o["reason"] = u.reason;
    o["steps"] = u.steps;
    o["tokens"] = u.tokens;
    o["team"] = u.team;
    o["feature"] = u.feature;
    o["tenant"] = u.tenant;
    o["run"] = u.run;
    o["kind"] = u.kind;
    o["provider"] = u.provider;
    o["model"] = u.model;
    o["tool_name"] = u.tool_name;
    doc["unpriced"].push_back(std::move(o));
  }
  doc["invoices"] = Json::array();
  for (const auto& i : r.invoices) {
    Json o;
    o["provider"] = i.provider;
    o["month"] = Month(i.month);
    money(o, "invoiced", i.invoiced_nano_usd);
    money(o, "attributed", i.attributed_nano_usd);
    money(o, "gap", i.gap_nano_usd);
    o["gap_share"] = share(i.gap_share);
    o["flagged"] = i.flagged;
    doc["invoices"].push_back(std::move(o));
  }
  return doc.dump() + "\n";
}

std::string Render(const ShowbackReport& report, ReportFormat format) {
  switch (format) {
    case ReportFormat::kTable:
      return RenderTable(report);
    case ReportFormat::kCsv:
      return RenderCsv(report);
    case ReportFormat::kJson:
      return RenderJson(report);
    case ReportFormat::kFocus:
      return RenderFocusCsv(report);
    case ReportFormat::kHtml:
      return RenderHtml(report);
    case ReportFormat::kUnpriced:
      return RenderUnpricedCsv(report);
  }
  return RenderTable(report);
}

}  // namespace stepledger::render
