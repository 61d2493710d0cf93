// The HTML page of the showback report (RenderHtml): one self-contained document, inline
// CSS and inline SVG bar charts, no external assets.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/render/render.h"
#include "server/render/render_internal.h"

namespace stepledger::render {

using domain::reports::DataQuality;
using domain::reports::Share;
using domain::reports::SpendLine;
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

std::string Html(const std::string& v) {
  std::string out;
  for (char c : v) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

struct Bar {
  std::string label;
  int64_t value = 0;
  int64_t reference = -1;  // budget marker; -1 = none
  bool alert = false;
};

std::string BarChart(const std::string& id, const std::string& title, const std::vector<Bar>& bars,
                     bool percent_of_total = false, int64_t total = 0) {
  const int row_h = 24, label_w = 170, chart_w = 420, value_w = 150;
  const int h = static_cast<int>(std::max<size_t>(bars.size(), 1)) * row_h + 30;
  int64_t max_v = 1;
  for (const Bar& b : bars) max_v = std::max({max_v, b.value, b.reference});
  std::string svg = absl::StrFormat(
      "<svg id=\"%s\" class=\"chart\" role=\"img\" aria-label=\"%s\" width=\"%d\" height=\"%d\" "
      "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">\n",
      id, Html(title), label_w + chart_w + value_w, h, label_w + chart_w + value_w, h);
  if (bars.empty()) {
    absl::StrAppend(&svg, "<text x=\"4\" y=\"18\" class=\"muted\">no data</text>\n");
  }
  int y = 6;
  for (const Bar& b : bars) {
    const int w = static_cast<int>(static_cast<double>(b.value) / max_v * chart_w);
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n"
                                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                                          "class=\"%s\"><title>%s: %s</title></rect>\n",
                                          label_w - 6, y + 15, Html(b.label), label_w, y + 2,
                                          std::max(w, 1), row_h - 6, b.alert ? "bar alert" : "bar",
                                          Html(b.label), Usd(b.value)));
    if (b.reference >= 0) {
      const int x = label_w + static_cast<int>(static_cast<double>(b.reference) / max_v * chart_w);
      absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                                            "class=\"budget\"><title>budget %s</title></line>\n",
                                            x, y, x, y + row_h - 2, Usd(b.reference)));
    }
    const std::string value_text =
        percent_of_total ? absl::StrCat(Usd(b.value), " (", Pct(Share(b.value, total)), ")")
                         : Usd(b.value);
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%d\" y=\"%d\">%s</text>\n",
                                          label_w + chart_w + 6, y + 15, value_text));
    y += row_h;
  }
  return svg + "</svg>\n";
}

std::vector<Bar> SpendBars(const std::vector<SpendLine>& lines) {
  std::vector<Bar> bars;
  for (const SpendLine& l : lines) {
    bars.push_back(Bar{l.key, l.spend_nano_usd, l.has_budget ? l.prorated_budget_nano_usd : -1,
                       l.has_budget && l.variance.over_budget});
  }
  return bars;
}

std::string HtmlTable(const std::string& cls, const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows,
                      const std::vector<bool>& alert = {}) {
  std::string out = absl::StrCat("<table class=\"", cls, "\"><thead><tr>");
  for (const auto& h : header) absl::StrAppend(&out, "<th>", Html(h), "</th>");
  out += "</tr></thead><tbody>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool a = i < alert.size() && alert[i];
    absl::StrAppend(&out, a ? "<tr class=\"alert\">" : "<tr>");
    for (const auto& c : rows[i]) absl::StrAppend(&out, "<td>", Html(c), "</td>");
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

}  // namespace

std::string RenderHtml(const ShowbackReport& r) {
  const DataQuality& dq = r.data_quality;
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Showback ",
      Day(r.from), " .. ", Day(r.to),
      "</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;margin:24px;color:#1d2430;background:#fff}\n"
      "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde}\n"
      "table{border-collapse:collapse;font-size:13px;margin:8px 0}\n"
      "th,td{padding:4px 10px;border-bottom:1px solid #eee;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left}\n"
      "tr.alert td{background:#fde8e8;color:#8a1111;font-weight:600}\n"
      ".chart text{font-size:12px;fill:#1d2430}.bar{fill:#4a78c2}.bar.alert{fill:#d0453a}\n"
      ".budget{stroke:#1d2430;stroke-width:2;stroke-dasharray:3 2}.muted{fill:#889}\n"
      ".kpi{display:inline-block;margin:0 28px 8px 0}.kpi b{display:block;font-size:20px}\n"
      ".flag{color:#8a1111;font-weight:600}\n"
      "</style></head><body>\n<h1>Showback ",
      Html(PeriodText(r)), "</h1>\n", "<div class=\"kpi\">Total spend<b id=\"total-spend\">",
      Usd(r.spend_nano_usd), "</b></div>", "<div class=\"kpi\">Unattributed<b>",
      Pct(dq.unattributed_share), "</b></div>", "<div class=\"kpi\">Over-budget teams<b>",
      std::count_if(r.teams.begin(), r.teams.end(),
                    [](const SpendLine& l) { return l.has_budget && l.variance.over_budget; }),
      "</b></div>\n");
  if (!r.budgets_available) out += "<p class=\"flag\">No budgets table: budgets not shown.</p>\n";

  auto spend_section = [&](const std::string& title, const std::string& id,
                           const std::vector<SpendLine>& lines, const std::string& first) {
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> alert;
    for (const auto& l : lines) {
      rows.push_back(SpendRow(l));
      alert.push_back(l.has_budget && l.variance.over_budget);
    }
    absl::StrAppend(&out, "<h2>", title,
                    "</h2>\n<p>Bars: spend; dashed line: prorated budget.</p>\n",
                    BarChart(id, title, SpendBars(lines)),
                    HtmlTable(absl::StrCat(first, "-rows"), SpendHeader(first), rows, alert));
  };
  spend_section("Spend vs budget per team", "chart-teams", r.teams, "team");
  spend_section("Spend vs budget per feature", "chart-features", r.features, "feature");

  std::vector<Bar> tenant_bars;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> alert;
  for (size_t i = 0; i < r.tenants.size(); ++i) {
    const auto& t = r.tenants[i];
    if (i < 15) tenant_bars.push_back(Bar{t.tenant, t.spend_nano_usd, -1, t.margin_risk});
    rows.push_back({t.tenant, Usd(t.spend_nano_usd), Pct(t.share),
                    t.margin_risk ? "margin risk (>10x median)" : ""});
    alert.push_back(t.margin_risk);
  }
  absl::StrAppend(
      &out, "<h2>Tenant concentration</h2>\n",
      BarChart("chart-tenants", "Tenant concentration", tenant_bars, true, r.spend_nano_usd),
      HtmlTable("tenant-rows", {"tenant", "spend", "share", "flag"}, rows, alert));

  rows.clear();
  for (const auto& t : r.tool_owners) {
    rows.push_back({t.tool_owner_team, t.charged_team, t.charged_feature, absl::StrCat(t.steps),
                    Usd(t.spend_nano_usd)});
  }
  absl::StrAppend(&out, "<h2>Tool owners: work performed for other teams</h2>\n",
                  HtmlTable("tool-owner-rows",
                            {"tool owner", "for team", "for feature", "steps", "spend"}, rows));

  std::vector<Bar> dq_bars{
      Bar{"attributed", dq.total_spend_nano_usd - dq.unattributed_spend_nano_usd, -1, false}};
  for (const auto& u : dq.unattributed) {
    dq_bars.push_back(Bar{absl::StrCat(u.source, ": ", u.reason), u.spend_nano_usd, -1, true});
  }
  rows.clear();
  for (const auto& u : dq.unattributed) {
    rows.push_back({absl::StrCat(u.source, ": ", u.reason), absl::StrCat(u.count),
                    Usd(u.spend_nano_usd), Pct(u.share)});
  }
  absl::StrAppend(
      &out, "<h2>Data quality: unattributed share ", Pct(dq.unattributed_share), "</h2>\n",
      BarChart("chart-unattributed", "Unattributed share", dq_bars, true, dq.total_spend_nano_usd),
      HtmlTable("unattributed-rows", {"reason", "events", "spend", "share"}, rows),
      "<p>Unpriced steps: ", dq.unpriced_steps, " · tag drift steps: ", dq.drift_steps,
      " · pending inheritance: ", dq.pending_steps, " steps (", Usd(dq.pending_spend_nano_usd),
      ") · corrections after rollup: ", Usd(dq.correction_spend_nano_usd), "</p>\n");
  if (!r.invoices.empty()) {
    rows.clear();
    alert.clear();
    for (const auto& i : r.invoices) {
      rows.push_back({i.provider, Month(i.month), Usd(i.invoiced_nano_usd),
                      Usd(i.attributed_nano_usd), Usd(i.gap_nano_usd), Pct(i.gap_share),
                      i.flagged ? "gap > 5%: investigate" : "ok"});
      alert.push_back(i.flagged);
    }
    absl::StrAppend(
        &out, "<h2>Invoices: attributed vs invoiced</h2>\n",
        HtmlTable("invoice-rows",
                  {"provider", "month", "invoiced", "attributed", "gap", "gap %", "flag"}, rows,
                  alert));
  }
  absl::StrAppend(&out, "<p class=\"muted\">Generated ",
                  absl::FormatTime("%Y-%m-%d %H:%M UTC", r.generated_at, absl::UTCTimeZone()),
                  " by stepledger.</p>\n</body></html>\n");
  return out;
}

}  // namespace stepledger::render
