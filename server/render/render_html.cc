// The HTML page of the showback report (RenderHtml), written for a finance reader: one
// self-contained document (inline CSS, inline SVG, no script, no external assets), every
// amount in US dollars with its sign, charts scaled to their data (each SVG carries its axis
// maximum and plot width as data-* attributes so a test can check the scaling), a layout that
// fits a laptop screen (fluid SVGs, wrapping tables) and a print style sheet.
//
// A section without data says so in a sentence instead of showing an empty table.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "server/render/render.h"
#include "server/render/render_internal.h"

namespace stepledger::render {

using domain::reports::CapLine;
using domain::reports::DataQuality;
using domain::reports::RollupRow;
using domain::reports::Share;
using domain::reports::SpendLine;
using internal::Day;
using internal::Month;
using internal::Pct;
using internal::PeriodText;
using internal::ReasonInWords;
using internal::Shorten;
using internal::UnpricedReasonInWords;

namespace {

constexpr const char* kPalette[] = {"#3b6fb6", "#e08a2c", "#3a9a5b", "#b5479b", "#7a6cc9",
                                    "#c0392b", "#2a9fa8", "#8c6d31", "#5c5c5c", "#d4a017"};

// Amounts on the page, all with the same number of decimals: cents when the page's total is
// $100 or more, else four decimals (one agent step often costs less than a cent).
struct Dollars {
  int decimals = 2;
  std::string operator()(int64_t nano_usd) const { return internal::Money(nano_usd, decimals); }
};

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

// A nice axis maximum: the smallest 1, 2, 2.5 or 5 x 10^k at or above the largest value, so
// the largest bar fills at least 40% of the plot.
int64_t AxisMax(int64_t largest) {
  if (largest <= 0) return 1;
  int64_t magnitude = 1;
  while (magnitude <= largest / 10) magnitude *= 10;
  for (int64_t step : {10, 20, 25, 50, 100}) {
    const int64_t candidate = magnitude * step / 10;
    if (candidate >= largest) return candidate;
  }
  return magnitude * 10;
}

struct Bar {
  std::string label;
  int64_t value = 0;
  int64_t reference = -1;  // budget marker; -1 = none
  bool alert = false;
  std::string note;  // after the amount, e.g. a share
};

// A horizontal bar chart. Fluid: it scales to the width of its column and never overflows.
std::string BarChart(const std::string& id, const std::string& title, const std::vector<Bar>& bars,
                     const Dollars& money) {
  const int row_h = 26, label_w = 200, plot_w = 520, value_w = 190, top = 24;
  const int width = label_w + plot_w + value_w;
  const int height = static_cast<int>(bars.size()) * row_h + top + 8;
  int64_t largest = 0;
  for (const Bar& b : bars) largest = std::max({largest, b.value, b.reference});
  const int64_t axis = AxisMax(largest);
  auto x_of = [&](int64_t v) {
    return label_w + static_cast<int>(static_cast<double>(std::max<int64_t>(v, 0)) / axis * plot_w);
  };
  std::string svg = absl::StrFormat(
      "<svg id=\"%s\" class=\"chart\" role=\"img\" aria-label=\"%s\" viewBox=\"0 0 %d %d\" "
      "data-axis-max-nano=\"%d\" data-plot-width=\"%d\" data-plot-left=\"%d\" "
      "preserveAspectRatio=\"xMinYMin meet\" xmlns=\"http://www.w3.org/2000/svg\">\n",
      id, Html(title), width, height, axis, plot_w, label_w);
  // Axis: 0, half, max in dollars.
  for (int i = 0; i <= 2; ++i) {
    const int64_t v = i == 2 ? axis : axis / 2 * i;
    const int x = x_of(v);
    absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                                          "class=\"grid\"/><text x=\"%d\" y=\"14\" "
                                          "text-anchor=\"middle\" class=\"axis\">%s</text>\n",
                                          x, top - 4, x, height - 4, x, money(v)));
  }
  int y = top;
  for (const Bar& b : bars) {
    const int w = x_of(b.value) - label_w;
    absl::StrAppend(
        &svg, absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n"
                              "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"%s\" "
                              "data-value-nano=\"%d\"><title>%s: %s</title></rect>\n",
                              label_w - 8, y + 17, Html(Shorten(b.label, 28)), label_w, y + 4,
                              std::max(w, 1), row_h - 8, b.alert ? "bar alert" : "bar", b.value,
                              Html(b.label), money(b.value)));
    if (b.reference >= 0) {
      const int x = x_of(b.reference);
      absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                                            "class=\"budget\"><title>prorated budget %s</title>"
                                            "</line>\n",
                                            x, y + 1, x, y + row_h - 1, money(b.reference)));
    }
    absl::StrAppend(
        &svg, absl::StrFormat("<text x=\"%d\" y=\"%d\">%s%s</text>\n", label_w + plot_w + 8, y + 17,
                              money(b.value), Html(b.note)));
    y += row_h;
  }
  return svg + "</svg>\n";
}

// Daily spend per team: one line per team over the rolled-up days of the period.
std::string TrendChart(const ShowbackReport& r, const Dollars& money) {
  const absl::CivilDay last = std::min(r.through, r.to);
  if (last < r.from) return "";
  std::map<std::string, std::map<absl::CivilDay, int64_t>> by_team;
  std::map<std::string, int64_t> team_total;
  for (const RollupRow& row : r.rows) {
    by_team[row.team][row.day] += row.cost_nano_usd;
    team_total[row.team] += row.cost_nano_usd;
  }
  if (by_team.empty()) return "";
  // Teams by spend, the largest first; at most 8 lines, the rest summed as "other teams".
  std::vector<std::string> teams;
  for (const SpendLine& l : r.teams) teams.push_back(l.key);
  std::map<absl::CivilDay, int64_t> other;
  bool has_other = false;
  if (teams.size() > 8) {
    for (size_t i = 8; i < teams.size(); ++i) {
      for (const auto& [d, v] : by_team[teams[i]]) other[d] += v;
    }
    teams.resize(8);
    has_other = true;
  }
  const int64_t days = domain::reports::DaysInclusive(r.from, last);
  int64_t largest = 0;
  for (const std::string& t : teams) {
    for (const auto& [d, v] : by_team[t]) largest = std::max(largest, v);
  }
  for (const auto& [d, v] : other) largest = std::max(largest, v);
  const int64_t axis = AxisMax(largest);
  const int left = 90, plot_w = 780, plot_h = 220, top = 14, width = left + plot_w + 20;
  const int height = top + plot_h + 34;
  auto x_of = [&](absl::CivilDay d) {
    if (days <= 1) return left + plot_w / 2;
    return left + static_cast<int>(static_cast<double>(d - r.from) / (days - 1) * plot_w);
  };
  auto y_of = [&](int64_t v) {
    return top + plot_h - static_cast<int>(static_cast<double>(v) / axis * plot_h);
  };
  std::string svg = absl::StrFormat(
      "<svg id=\"chart-trend\" class=\"chart\" role=\"img\" aria-label=\"Daily spend per team\" "
      "viewBox=\"0 0 %d %d\" data-axis-max-nano=\"%d\" data-plot-height=\"%d\" "
      "data-plot-top=\"%d\" preserveAspectRatio=\"xMinYMin meet\" "
      "xmlns=\"http://www.w3.org/2000/svg\">\n",
      width, height, axis, plot_h, top);
  for (int i = 0; i <= 4; ++i) {
    const int64_t v = static_cast<int64_t>(static_cast<double>(axis) * i / 4);
    const int y = y_of(v);
    absl::StrAppend(&svg, absl::StrFormat("<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                                          "class=\"grid\"/><text x=\"%d\" y=\"%d\" "
                                          "text-anchor=\"end\" class=\"axis\">%s</text>\n",
                                          left, y, left + plot_w, y, left - 6, y + 4, money(v)));
  }
  // Day labels: at most about 10, first and last always.
  const int64_t every = std::max<int64_t>(1, (days + 9) / 10);
  for (int64_t i = 0; i < days; ++i) {
    if (i % every != 0 && i != days - 1) continue;
    const absl::CivilDay d = r.from + i;
    absl::StrAppend(&svg, absl::StrFormat("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
                                          "class=\"axis\">%s</text>\n",
                                          x_of(d), top + plot_h + 18, Day(d).substr(5)));
  }
  auto series = [&](const std::string& name, const std::map<absl::CivilDay, int64_t>& values,
                    const char* color) {
    std::vector<std::string> points;
    std::string dots;
    for (absl::CivilDay d = r.from; d <= last; ++d) {
      auto it = values.find(d);
      const int64_t v = it == values.end() ? 0 : it->second;
      points.push_back(absl::StrCat(x_of(d), ",", y_of(v)));
      absl::StrAppend(&dots,
                      absl::StrFormat("<circle cx=\"%d\" cy=\"%d\" r=\"3\" fill=\"%s\" "
                                      "data-value-nano=\"%d\"><title>%s %s: %s</title>"
                                      "</circle>\n",
                                      x_of(d), y_of(v), color, v, Html(name), Day(d), money(v)));
    }
    absl::StrAppend(&svg,
                    absl::StrFormat("<polyline class=\"line\" fill=\"none\" stroke=\"%s\" "
                                    "stroke-width=\"2\" points=\"%s\"/>\n",
                                    color, absl::StrJoin(points, " ")),
                    dots);
  };
  std::string legend = "<ul class=\"legend\">";
  for (size_t i = 0; i < teams.size(); ++i) {
    const char* color = kPalette[i % std::size(kPalette)];
    series(teams[i], by_team[teams[i]], color);
    absl::StrAppend(&legend, "<li><span class=\"swatch\" style=\"background:", color, "\"></span>",
                    Html(teams[i]), " ", money(team_total[teams[i]]), "</li>");
  }
  if (has_other) {
    series("other teams", other, "#999999");
    int64_t total = 0;
    for (const auto& [d, v] : other) total += v;
    absl::StrAppend(&legend, "<li><span class=\"swatch\" style=\"background:#999999\"></span>",
                    "other teams ", money(total), "</li>");
  }
  return absl::StrCat(svg, "</svg>\n", legend, "</ul>\n");
}

std::string HtmlTable(const std::string& cls, const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows,
                      const std::vector<bool>& alert = {}) {
  std::string out =
      absl::StrCat("<div class=\"table-wrap\"><table class=\"", cls, "\"><thead><tr>");
  for (const auto& h : header) absl::StrAppend(&out, "<th>", Html(h), "</th>");
  out += "</tr></thead><tbody>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool a = i < alert.size() && alert[i];
    absl::StrAppend(&out, a ? "<tr class=\"alert\">" : "<tr>");
    for (const auto& c : rows[i]) absl::StrAppend(&out, "<td>", Html(c), "</td>");
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

// A table, or the sentence saying why there is none.
std::string TableOr(const std::string& empty_sentence, const std::string& cls,
                    const std::vector<std::string>& header,
                    const std::vector<std::vector<std::string>>& rows,
                    const std::vector<bool>& alert = {}) {
  if (rows.empty()) return absl::StrCat("<p class=\"empty\">", Html(empty_sentence), "</p>\n");
  return HtmlTable(cls, header, rows, alert);
}

// A share as a number and a bar (the fill is the share of the track).
std::string ShareBar(const std::string& id, double share, bool alert) {
  const double pct = std::clamp(share, 0.0, 1.0) * 100;
  return absl::StrFormat(
      "<div class=\"share\" id=\"%s\" data-share=\"%.6f\"><span class=\"share-number\">%s</span>"
      "<span class=\"track\"><span class=\"fill%s\" style=\"width:%.2f%%\"></span></span></div>",
      id, share, Pct(share), alert ? " alert" : "", pct);
}

std::vector<std::string> SpendCells(const SpendLine& l, const Dollars& money) {
  std::vector<std::string> models;
  for (const auto& [m, v] : l.top_models) models.push_back(absl::StrCat(m, " ", money(v)));
  return {l.key,
          money(l.spend_nano_usd),
          l.has_budget ? money(l.budget_nano_usd) : "no budget",
          l.has_budget ? money(l.prorated_budget_nano_usd) : "-",
          l.has_budget ? money(l.variance.variance_nano_usd) : "-",
          !l.has_budget ? "" : (l.variance.over_budget ? "over budget" : "within budget"),
          absl::StrCat(l.runs),
          l.runs > 0 ? money(l.run_cost_p50_nano_usd) : "-",
          l.runs > 0 ? money(l.run_cost_p95_nano_usd) : "-",
          money(l.retry_spend_nano_usd),
          absl::StrJoin(models, "; ")};
}

std::vector<std::string> SpendHeaderCells(const std::string& first) {
  return {first,
          "spend",
          "budget",
          "prorated budget",
          "variance",
          "status",
          "runs",
          "cost per run (median)",
          "cost per run (p95)",
          "retry spend",
          "top models"};
}

std::string Section(const std::string& id, const std::string& title, const std::string& body) {
  return absl::StrCat("<section id=\"", id, "\"><h2>", Html(title), "</h2>\n", body,
                      "</section>\n");
}

constexpr char kStyle[] = R"css(
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2430;background:#fff;font-size:14px;line-height:1.4}
main{max-width:1180px;margin:0 auto;padding:20px 24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dce6;padding-bottom:4px}
.sub{color:#5b6475;margin:0 0 16px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:12px 0}
.kpi{border:1px solid #d8dce6;border-radius:6px;padding:10px 12px}.kpi b{display:block;font-size:20px;margin-top:2px}
.kpi small{color:#5b6475}
svg.chart{display:block;width:100%;height:auto;max-width:910px}
svg.chart text{font-size:12px;fill:#1d2430}svg.chart text.axis{fill:#5b6475;font-size:11px}
.grid{stroke:#e3e6ee;stroke-width:1}.bar{fill:#3b6fb6}.bar.alert{fill:#c0392b}
.budget{stroke:#1d2430;stroke-width:2;stroke-dasharray:3 2}
.legend{list-style:none;padding:0;margin:6px 0;display:flex;flex-wrap:wrap;gap:6px 18px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.table-wrap{max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:8px 0;width:100%;table-layout:auto}
th,td{padding:4px 8px;border-bottom:1px solid #eceef3;text-align:right;vertical-align:top}
td{white-space:nowrap}td:last-child{white-space:normal;overflow-wrap:break-word}
th{overflow-wrap:normal;hyphens:none}
th{background:#f4f6fa;font-weight:600}
th:first-child,td:first-child{text-align:left}td:last-child{text-align:left}
tr.alert td{background:#fdecea;color:#8a1111;font-weight:600}
.share{display:flex;align-items:center;gap:10px;max-width:520px}.share-number{font-weight:700;min-width:56px}
.track{flex:1;height:12px;background:#e9ecf3;border-radius:6px;overflow:hidden;display:block}
.fill{display:block;height:100%;background:#3b6fb6}.fill.alert{background:#c0392b}
.empty{color:#5b6475;font-style:italic}
.note{color:#5b6475;font-size:12px}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.flag{color:#8a1111;font-weight:600}
@media print{
  @page{size:A4 landscape;margin:12mm}
  body{font-size:11px}main{max-width:none;padding:0}
  section{break-inside:avoid-page}
  .kpi,table,th,td{border-color:#999}
  th{background:none}
  tr.alert td{background:none;color:#000;text-decoration:underline}
  svg.chart{max-width:100%}
}
)css";

}  // namespace

std::string RenderHtml(const ShowbackReport& r) {
  const DataQuality& dq = r.data_quality;
  const Dollars money{r.total_spend_nano_usd >= 100'000'000'000 ? 2 : 4};
  const int over_budget =
      static_cast<int>(std::count_if(r.teams.begin(), r.teams.end(), [](const SpendLine& l) {
        return l.has_budget && l.variance.over_budget;
      }));
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>AI spend showback ",
      Day(r.from), " to ", Day(r.to), "</title>\n<style>", kStyle, "</style></head><body><main>\n",
      "<h1>AI spend showback, ", Day(r.from), " to ", Day(r.to), "</h1>\n<p class=\"sub\">",
      Html(PeriodText(r)), ". All amounts in US dollars (USD).</p>\n");

  // Headline figures.
  absl::StrAppend(
      &out, "<div class=\"kpis\">", "<div class=\"kpi\">Total spend<b id=\"total-spend\">",
      money(r.total_spend_nano_usd), " USD</b><small>teams ", money(r.spend_nano_usd),
      " + rejected events ", money(dq.quarantined_spend_nano_usd), "</small></div>",
      "<div class=\"kpi\">Unattributed spend<b>", money(dq.unattributed_spend_nano_usd), "</b>",
      ShareBar("kpi-unattributed-share", dq.unattributed_share, dq.unattributed_share > 0),
      "</div>", "<div class=\"kpi\">Teams over budget<b>", over_budget, " of ", r.teams.size(),
      "</b><small>against the prorated budget</small></div>",
      "<div class=\"kpi\">Steps without a price<b>",
      dq.unpriced_steps + dq.unpriced_quarantined_events,
      "</b><small>no amount; not in any total</small></div></div>\n");
  if (!r.missing_days.empty()) {
    absl::StrAppend(&out, "<p class=\"flag\">", r.missing_days.size(),
                    r.missing_days.size() == 1 ? " day is" : " days are", " not rolled up yet (",
                    Day(r.missing_days.front()), " to ", Day(r.missing_days.back()),
                    "): their spend is not in these figures.</p>\n");
  }
  if (!r.budgets_available) out += "<p class=\"flag\">No budgets table: budgets not shown.</p>\n";

  // Trend.
  const std::string trend = TrendChart(r, money);
  out += Section(
      "trend", "Daily spend per team",
      trend.empty() ? "<p class=\"empty\">No rolled-up days in this period yet.</p>\n" : trend);

  // Teams and features: bars against the prorated budget, then the table.
  auto spend_section = [&](const std::string& id, const std::string& title,
                           const std::vector<SpendLine>& lines, const std::string& first) {
    if (lines.empty()) {
      return Section(id, title, "<p class=\"empty\">No spend in this period.</p>\n");
    }
    std::vector<Bar> bars;
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> alert;
    for (const SpendLine& l : lines) {
      const bool over = l.has_budget && l.variance.over_budget;
      bars.push_back(
          Bar{l.key, l.spend_nano_usd, l.has_budget ? l.prorated_budget_nano_usd : -1, over, ""});
      rows.push_back(SpendCells(l, money));
      alert.push_back(over);
    }
    return Section(id, title,
                   absl::StrCat("<p class=\"note\">Bars: spend. Dashed line: prorated budget "
                                "(where spend should be by now). Red: over budget.</p>\n",
                                BarChart(absl::StrCat("chart-", id), title, bars, money),
                                HtmlTable(absl::StrCat(first, "-rows"), SpendHeaderCells(first),
                                          rows, alert)));
  };
  out += spend_section("teams", "Spend and budget per team", r.teams, "team");

  // Caps.
  {
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> alert;
    for (const CapLine& c : r.caps) {
      rows.push_back({absl::StrCat(c.scope, " ", c.key),
                      c.period == domain::reports::CapPeriod::kDaily ? "daily" : "monthly",
                      money(c.budget_nano_usd), money(c.spend_nano_usd),
                      Pct(Share(c.spend_nano_usd, c.budget_nano_usd)),
                      absl::StrCat(money(c.burn_nano_usd_per_day), " per day"),
                      money(c.forecast_nano_usd),
                      c.forecast_over ? "forecast over budget" : "on track"});
      alert.push_back(c.forecast_over);
    }
    out += Section(
        "caps", absl::StrCat("Budget caps: spend to date and forecast to ", Day(r.to)),
        absl::StrCat(
            "<p class=\"note\">Budget: the cap's share of this period. Burn rate: spend so far "
            "divided by the days rolled up. Forecast: the burn rate over the whole period.</p>\n",
            TableOr("No budget caps apply to this period.", "cap-rows",
                    {"cap", "period", "budget", "spent to date", "used", "burn rate",
                     "forecast at period end", "status"},
                    rows, alert)));
  }

  // Models and providers.
  {
    std::map<std::string, int64_t> models, providers;
    for (const RollupRow& row : r.rows) {
      models[row.model.empty() ? absl::StrCat("(", row.kind, ", no model)") : row.model] +=
          row.cost_nano_usd;
      providers[row.provider.empty() ? "(no provider)" : row.provider] += row.cost_nano_usd;
    }
    auto bars = [&](const std::map<std::string, int64_t>& m) {
      std::vector<Bar> out_bars;
      for (const auto& [k, v] : m) {
        out_bars.push_back(
            Bar{k, v, -1, false, absl::StrCat(" (", Pct(Share(v, r.spend_nano_usd)), ")")});
      }
      std::stable_sort(out_bars.begin(), out_bars.end(),
                       [](const Bar& a, const Bar& b) { return a.value > b.value; });
      if (out_bars.size() > 12) out_bars.resize(12);
      return out_bars;
    };
    out += Section(
        "models", "Spend by model and by provider",
        models.empty()
            ? "<p class=\"empty\">No spend in this period.</p>\n"
            : absl::StrCat(
                  "<h3>By model</h3>\n",
                  BarChart("chart-models", "Spend by model", bars(models), money),
                  "<h3>By provider</h3>\n",
                  BarChart("chart-providers", "Spend by provider", bars(providers), money)));
  }

  out += spend_section("features", "Spend and budget per feature", r.features, "feature");

  // Tenants.
  {
    std::vector<Bar> bars;
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> alert;
    for (const auto& t : r.tenants) {
      const std::string label = t.unattributed ? "no tenant tag" : t.tenant;
      if (bars.size() < 15) {
        bars.push_back(
            Bar{label, t.spend_nano_usd, -1, t.margin_risk, absl::StrCat(" (", Pct(t.share), ")")});
      }
      rows.push_back({label, money(t.spend_nano_usd), Pct(t.share),
                      t.unattributed  ? "not a tenant: steps sent without one"
                      : t.margin_risk ? "margin risk: over 10x the median tenant"
                                      : ""});
      alert.push_back(t.margin_risk);
    }
    out += Section("tenants", "Spend per tenant",
                   rows.empty()
                       ? "<p class=\"empty\">No tenant spend in this period.</p>\n"
                       : absl::StrCat(BarChart("chart-tenants", "Spend per tenant", bars, money),
                                      HtmlTable("tenant-rows", {"tenant", "spend", "share", "note"},
                                                rows, alert)));
  }

  // Tool owners.
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& t : r.tool_owners) {
      rows.push_back({t.tool_owner_team, t.charged_team, t.charged_feature, absl::StrCat(t.steps),
                      money(t.spend_nano_usd)});
    }
    out += Section(
        "tool-owners", "Tools run for other teams (chargeback)",
        TableOr("No team's tools were used by another team in this period.", "tool-owner-rows",
                {"tool owner", "used by team", "for feature", "steps", "spend"}, rows));
  }

  // Data quality.
  {
    std::vector<std::vector<std::string>> rows;
    for (const auto& u : dq.unattributed) {
      rows.push_back({ReasonInWords(u.source, u.reason), absl::StrCat(u.count),
                      money(u.spend_nano_usd), Pct(u.share)});
    }
    std::vector<std::vector<std::string>> unpriced;
    for (const auto& u : r.unpriced) {
      if (unpriced.size() == 20) break;
      unpriced.push_back({Day(u.day), u.team.empty() ? "(rejected event)" : u.team,
                          u.model.empty() ? (u.tool_name.empty() ? u.kind : u.tool_name) : u.model,
                          u.provider, UnpricedReasonInWords(u.reason), absl::StrCat(u.steps)});
    }
    std::string body = absl::StrCat(
        "<p>Share of all spend that no team could be charged for:</p>",
        ShareBar("unattributed-share", dq.unattributed_share, dq.unattributed_share > 0), "<p>",
        money(dq.unattributed_spend_nano_usd), " of ", money(dq.total_spend_nano_usd), ".</p>\n",
        TableOr("Every dollar in this period was attributed to a team.", "unattributed-rows",
                {"why it is unattributed", "steps or events", "spend", "share of all spend"}, rows),
        "<h3>Steps without a price</h3>\n<p>", dq.unpriced_steps, " steps and ",
        dq.unpriced_quarantined_events,
        " rejected events have no price: they carry no amount and are in no total (unknown is "
        "not zero). The FOCUS export leaves them out; the unpriced list (stepledger report "
        "showback --format unpriced) names them all.</p>\n");
    if (!unpriced.empty()) {
      absl::StrAppend(
          &body, HtmlTable("unpriced-rows",
                           {"day", "team", "model or tool", "provider", "why", "steps"}, unpriced));
    }
    absl::StrAppend(&body, "<p>Tag drift: ", dq.drift_steps,
                    " steps carried tags that differ from their run's first step (charged to the "
                    "run's). Waiting for their run's first step: ",
                    dq.pending_steps, " steps, ", money(dq.pending_spend_nano_usd),
                    ". Arrived after their day was first reported: ",
                    money(dq.correction_spend_nano_usd), ".</p>\n");
    out += Section("data-quality", "Data quality", body);
  }

  if (!r.invoices.empty()) {
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> alert;
    for (const auto& i : r.invoices) {
      rows.push_back({i.provider, Month(i.month), money(i.invoiced_nano_usd),
                      money(i.attributed_nano_usd), money(i.gap_nano_usd), Pct(i.gap_share),
                      i.flagged ? "gap over 5%: investigate" : "within 5%"});
      alert.push_back(i.flagged);
    }
    out += Section(
        "invoices", "Invoices: attributed vs invoiced",
        HtmlTable("invoice-rows",
                  {"provider", "month", "invoiced", "attributed", "gap", "gap share", "status"},
                  rows, alert));
  }
  absl::StrAppend(&out, "<p class=\"note\">Generated ",
                  absl::FormatTime("%Y-%m-%d %H:%M UTC", r.generated_at, absl::UTCTimeZone()),
                  " by stepledger.</p>\n</main></body></html>\n");
  return out;
}

}  // namespace stepledger::render
