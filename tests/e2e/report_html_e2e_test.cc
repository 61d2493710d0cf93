// E2E (issue 7): ledger data sent through a real collector with the client library, rolled up
// by the `stepledger rollup` CLI (through the collector), the showback fetched over gRPC
// (Reports.GetShowback), and the HTML page rendered by headless Chromium (Debian `chromium`): a
// screenshot is taken and the rendered DOM must hold every team row and non-empty SVG bar charts.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "client/lib/send_all.h"
#include "client/lib/step_stream_client.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "stepledger/v1/budget.grpc.pb.h"
#include "stepledger/v1/reports.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::TestDatabase;

constexpr const char* kChromium = "/usr/bin/chromium";

struct Sent {
  std::vector<v1::StepEvent> events;
  std::map<std::string, int64_t> by_team, by_feature, by_tenant;
  int64_t total = 0;
};

const std::vector<std::string>& Teams() {
  static const std::vector<std::string> kTeams = {"mail-ai", "knowledge", "devtools",
                                                  "productivity", "search"};
  return kTeams;
}

// 400 steps in 50 runs of 8: five teams with two features each, 12 tenants (tenant-0 much
// larger than the rest), spread over today and yesterday (UTC).
Sent MakeLedger(absl::Time now) {
  std::mt19937 rng(7);
  Sent s;
  const int64_t now_s = absl::ToUnixSeconds(now);
  for (int i = 0; i < 400; ++i) {
    const int run = i / 8;
    const std::string& team = Teams()[run % Teams().size()];
    const std::string feature = absl::StrCat(team, "-", (run / 5) % 2 == 0 ? "chat" : "batch");
    const std::string tenant = run % 4 == 0 ? "tenant-0" : absl::StrCat("tenant-", 1 + run % 11);
    v1::StepEvent e;
    e.set_event_id(absl::StrCat("evt-", i));
    v1::Tags* t = e.mutable_tags();
    t->set_feature(feature);
    t->set_team(team);
    t->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
    t->set_tenant(tenant);
    t->set_environment(v1::ENVIRONMENT_PRODUCTION);
    t->set_parent_run_id(absl::StrCat("run-", run));
    e.set_step_id(absl::StrCat("s-", i));
    if (i % 8 != 0) e.set_parent_step_id(absl::StrCat("s-", i - i % 8));
    e.set_kind(v1::STEP_KIND_MODEL_CALL);
    e.set_name("planner");
    e.set_provider("openai");
    e.set_model(i % 3 == 0 ? "gpt-4o" : "gpt-4o-mini");
    e.mutable_usage()->set_input_uncached_tokens(100 + rng() % 1000);
    e.mutable_usage()->set_output_tokens(10 + rng() % 100);
    // Team i's steps cost about (i + 1) times the first team's, so the bars differ.
    const int64_t cost = (1 + run % Teams().size()) * (1000000 + rng() % 5000000);
    e.set_cost_nano_usd(cost);
    e.set_attempt(1);
    // Whole runs on the same day: today's runs within the last hour (or since midnight).
    const int64_t since_midnight = now_s % 86400;
    const int64_t started = run % 2 == 0 ? now_s - std::min<int64_t>(3600, since_midnight) + (i % 8)
                                         : now_s - since_midnight - 43200 + i;
    e.mutable_started_at()->set_seconds(started);
    e.mutable_ended_at()->set_seconds(started + 1);
    s.by_team[team] += cost;
    s.by_feature[feature] += cost;
    s.by_tenant[tenant] += cost;
    s.total += cost;
    s.events.push_back(std::move(e));
  }
  return s;
}

std::string DayText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Sends the ledger, puts a budget for the first team, rolls up yesterday and today with the
// CLI. Returns the request for exactly that range.
class ReportE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    collector_ = std::make_unique<CollectorProcess>(db_.url());
    ASSERT_TRUE(collector_->Start()) << collector_->Log();
    const absl::Time now = absl::Now();
    today_ = absl::ToCivilDay(now, absl::UTCTimeZone());
    sent_ = MakeLedger(now);

    client::SendOptions options;
    options.streams = 2;
    options.stream.batch_size = 100;
    options.stream.deadline = absl::Minutes(2);
    client::StreamResult result = client::SendAll(collector_->target(), sent_.events, options);
    ASSERT_TRUE(result.all_acked()) << result.status << "\n" << collector_->Log();
    ASSERT_EQ(result.totals.accepted, static_cast<int64_t>(sent_.events.size()));

    channel_ = client::MakeCollectorChannel(collector_->target());
    // A monthly budget for the first team, small enough that it shows as over budget.
    auto budget = v1::Budget::NewStub(channel_);
    v1::PutBudgetRequest put;
    put.set_changed_by("e2e");
    v1::Cap* cap = put.mutable_cap();
    cap->set_id("team-mail-ai-monthly");
    cap->set_scope(v1::SCOPE_TEAM);
    cap->set_key(Teams()[0]);
    cap->set_environment(v1::ENVIRONMENT_PRODUCTION);
    cap->set_period(v1::PERIOD_MONTHLY);
    cap->set_limit_nano_usd(sent_.by_team[Teams()[0]] * 2);
    cap->set_owner("mail-ai-lead");
    cap->set_signed_off_by("finance");
    v1::Cap stored;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status st = budget->PutBudget(&ctx, put, &stored);
    ASSERT_TRUE(st.ok()) << st.error_message();

    const std::string rollup =
        absl::StrCat(STEPLEDGER_CLI_BIN, " --target ", collector_->target(), " rollup --from ",
                     DayText(today_ - 1), " --to ", DayText(today_), " >/dev/null");
    ASSERT_EQ(std::system(rollup.c_str()), 0) << rollup;

    request_.mutable_range()->set_from(DayText(today_ - 1));
    request_.mutable_range()->set_to(DayText(today_));
  }

  grpc::Status GetShowback(const v1::ShowbackRequest& request, v1::ShowbackReport* report) {
    auto stub = v1::Reports::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub->GetShowback(&ctx, request, report);
  }

  TestDatabase db_;
  std::unique_ptr<CollectorProcess> collector_;
  std::shared_ptr<grpc::Channel> channel_;
  absl::CivilDay today_;
  Sent sent_;
  v1::ShowbackRequest request_;
};

TEST_F(ReportE2ETest, GetShowbackStructuredTotalsEqualWhatWasSent) {
  v1::ShowbackReport report;
  grpc::Status st = GetShowback(request_, &report);
  ASSERT_TRUE(st.ok()) << st.error_message() << "\n" << collector_->Log();
  EXPECT_EQ(report.from(), DayText(today_ - 1));
  EXPECT_EQ(report.to(), DayText(today_));
  EXPECT_EQ(report.through(), DayText(today_));
  EXPECT_TRUE(report.rendered().empty());
  EXPECT_EQ(report.rendered_format(), v1::REPORT_FORMAT_UNSPECIFIED);

  EXPECT_EQ(report.spend_nano_usd(), sent_.total);
  EXPECT_EQ(report.data_quality().total_spend_nano_usd(), sent_.total);
  EXPECT_EQ(report.data_quality().unattributed_spend_nano_usd(), 0);

  std::map<std::string, int64_t> teams, features, tenants;
  int64_t team_sum = 0, runs = 0;
  for (const auto& t : report.teams()) {
    teams[t.key()] = t.spend_nano_usd();
    team_sum += t.spend_nano_usd();
    runs += t.runs();
  }
  for (const auto& f : report.features()) features[f.key()] = f.spend_nano_usd();
  for (const auto& t : report.tenants()) tenants[t.tenant()] = t.spend_nano_usd();
  EXPECT_EQ(teams, sent_.by_team);
  EXPECT_EQ(features, sent_.by_feature);
  EXPECT_EQ(tenants, sent_.by_tenant);
  EXPECT_EQ(team_sum, sent_.total);
  EXPECT_EQ(runs, 50);

  // The first team's budget: monthly cap, prorated over the covered days; spend is half the
  // cap, and a two-day period is at most 2/28 of a month, so it is over its prorated budget.
  bool found = false;
  for (const auto& t : report.teams()) {
    if (t.key() != Teams()[0]) {
      EXPECT_FALSE(t.has_budget()) << t.key();
      continue;
    }
    found = true;
    EXPECT_TRUE(t.has_budget());
    EXPECT_GT(t.budget_nano_usd(), 0);
    EXPECT_EQ(t.variance_nano_usd(), t.spend_nano_usd() - t.prorated_budget_nano_usd());
    EXPECT_TRUE(t.over_budget());
  }
  EXPECT_TRUE(found);

  // Only production was sent: the staging report is empty.
  v1::ShowbackRequest staging = request_;
  staging.set_environment(v1::ENVIRONMENT_STAGING);
  v1::ShowbackReport empty;
  ASSERT_TRUE(GetShowback(staging, &empty).ok());
  EXPECT_EQ(empty.spend_nano_usd(), 0);
  EXPECT_EQ(empty.teams_size(), 0);
}

TEST_F(ReportE2ETest, GetShowbackRejectsABadPeriodNamingTheField) {
  v1::ShowbackRequest bad_month;
  bad_month.set_month("2025-13");
  v1::ShowbackReport report;
  grpc::Status st = GetShowback(bad_month, &report);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("month"), std::string::npos) << st.error_message();

  v1::ShowbackRequest inverted;
  inverted.mutable_range()->set_from(DayText(today_));
  inverted.mutable_range()->set_to(DayText(today_ - 1));
  st = GetShowback(inverted, &report);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("range.to"), std::string::npos) << st.error_message();

  v1::ShowbackRequest bad_day;
  bad_day.mutable_range()->set_from("2025-1-01");
  bad_day.mutable_range()->set_to(DayText(today_));
  st = GetShowback(bad_day, &report);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("range.from"), std::string::npos) << st.error_message();
}

// Measures the laid-out page in the browser and writes what it found into
// <pre id="layout-report"> (read back from --dump-dom): the window and document widths, and
// every problem: a chart or table wider than the window, a bar or point not where its value puts
// it on the chart's axis, a chart whose largest value fills less than 40% of its axis (not
// scaled to its data), an empty table, text clipped by its box.
constexpr char kLayoutProbe[] = R"js(
<script>
(function () {
  const vw = window.innerWidth;
  const out = {viewport: vw, documentWidth: document.documentElement.scrollWidth, charts: 0,
               bars: 0, tables: 0, problems: []};
  const bad = (what) => out.problems.push(what);
  document.querySelectorAll('svg.chart').forEach((svg) => {
    out.charts++;
    const box = svg.getBoundingClientRect();
    if (box.right > vw + 1 || box.width < 200) bad('chart ' + svg.id + ' spans ' + box.left + '..' + box.right);
    const axis = Number(svg.dataset.axisMaxNano);
    let largest = 0;
    const plotWidth = Number(svg.dataset.plotWidth || 0);
    svg.querySelectorAll('rect[data-value-nano]').forEach((rect) => {
      out.bars++;
      const v = Number(rect.dataset.valueNano);
      largest = Math.max(largest, v);
      const want = Math.max(1, Math.floor(v / axis * plotWidth));
      const got = Number(rect.getAttribute('width'));
      if (Math.abs(got - want) > 1) bad('bar in ' + svg.id + ': width ' + got + ', value says ' + want);
      const r = rect.getBoundingClientRect();
      if (r.right > box.right + 1) bad('bar in ' + svg.id + ' clipped');
    });
    const plotHeight = Number(svg.dataset.plotHeight || 0), plotTop = Number(svg.dataset.plotTop || 0);
    svg.querySelectorAll('circle[data-value-nano]').forEach((c) => {
      const v = Number(c.dataset.valueNano);
      largest = Math.max(largest, v);
      const want = plotTop + plotHeight - Math.floor(v / axis * plotHeight);
      if (Math.abs(Number(c.getAttribute('cy')) - want) > 1) bad('point in ' + svg.id + ' off its value');
    });
    if (largest > 0 && largest / axis < 0.4) bad('chart ' + svg.id + ' not scaled to its data');
  });
  document.querySelectorAll('table').forEach((t) => {
    out.tables++;
    const box = t.getBoundingClientRect();
    if (box.right > vw + 1) bad('table ' + t.className + ' wider than the window');
    if (!t.tBodies.length || t.tBodies[0].rows.length === 0) bad('empty table ' + t.className);
  });
  document.querySelectorAll('td, th, h1, h2, p, .kpi').forEach((e) => {
    if (e.scrollWidth > e.clientWidth + 1) bad('clipped ' + e.tagName + ': ' + e.textContent.slice(0, 40));
  });
  const pre = document.createElement('pre');
  pre.id = 'layout-report';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
)js";

// The largest width="N" among the <rect> elements of the <svg id="`id`"> in `dom`; -1 when the
// chart is missing.
int MaxRectWidth(const std::string& dom, const std::string& id) {
  const size_t start = dom.find(absl::StrCat("<svg id=\"", id, "\""));
  if (start == std::string::npos) return -1;
  const size_t end = dom.find("</svg>", start);
  if (end == std::string::npos) return -1;
  int max_w = 0;
  for (size_t p = dom.find("<rect", start); p != std::string::npos && p < end;
       p = dom.find("<rect", p + 1)) {
    const size_t tag_end = dom.find('>', p);
    const size_t w = dom.find("width=\"", p);
    if (w == std::string::npos || w > tag_end) continue;
    max_w = std::max(max_w, std::atoi(dom.c_str() + w + 7));
  }
  return max_w;
}

TEST_F(ReportE2ETest, HtmlReportRendersInHeadlessChromiumWithTeamRowsAndCharts) {
  ASSERT_EQ(access(kChromium, X_OK), 0)
      << kChromium << " is missing: install the Debian package `chromium` (make deps)";
  v1::ShowbackRequest request = request_;
  request.set_format(v1::REPORT_FORMAT_HTML);
  v1::ShowbackReport report;
  grpc::Status st = GetShowback(request, &report);
  ASSERT_TRUE(st.ok()) << st.error_message() << "\n" << collector_->Log();
  ASSERT_EQ(report.rendered_format(), v1::REPORT_FORMAT_HTML);
  ASSERT_NE(report.rendered().find("<html"), std::string::npos);
  // Self-contained: nothing fetched from elsewhere.
  EXPECT_EQ(report.rendered().find("src=\"http"), std::string::npos);
  EXPECT_EQ(report.rendered().find("href=\"http"), std::string::npos);

  char tmpl[] = "/tmp/stepledger-e2e-report-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir(tmpl);
  const std::string html = (dir / "showback.html").string();
  { std::ofstream(html, std::ios::binary) << report.rendered(); }

  auto chromium = [&](const std::string& profile, const std::string& mode) {
    std::filesystem::create_directories(dir / profile);
    return absl::StrCat("timeout 180 ", kChromium,
                        " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                        " --disable-background-networking --disable-component-update"
                        " --disable-sync --user-data-dir=",
                        (dir / profile).string(), " --window-size=1366,2000 ", mode, " file://",
                        html);
  };
  const std::string png = (dir / "page.png").string();
  const std::string shot = chromium("profile-shot", absl::StrCat("--screenshot=", png)) + " >" +
                           (dir / "shot.log").string() + " 2>&1";
  EXPECT_EQ(std::system(shot.c_str()), 0) << shot << "\n" << ReadFile((dir / "shot.log").string());
  std::error_code ec;
  const auto png_size = std::filesystem::file_size(png, ec);
  ASSERT_FALSE(ec) << "no screenshot: " << ReadFile((dir / "shot.log").string());
  EXPECT_GT(png_size, 10u * 1024) << png;
  EXPECT_EQ(ReadFile(png).substr(1, 3), "PNG");

  // A laptop screen: 1366 pixels wide. The screenshot is that wide and not blank.
  const std::string png_head = ReadFile(png).substr(16, 8);
  ASSERT_EQ(png_head.size(), 8u);
  const uint32_t png_width =
      (static_cast<uint8_t>(png_head[0]) << 24) | (static_cast<uint8_t>(png_head[1]) << 16) |
      (static_cast<uint8_t>(png_head[2]) << 8) | static_cast<uint8_t>(png_head[3]);
  EXPECT_EQ(png_width, 1366u);

  const std::string dom_path = (dir / "dom.html").string();
  const std::string dump =
      chromium("profile-dom", "--dump-dom") + " >" + dom_path + " 2>" + (dir / "dom.log").string();
  EXPECT_EQ(std::system(dump.c_str()), 0) << dump << "\n" << ReadFile((dir / "dom.log").string());
  const std::string dom = ReadFile(dom_path);
  ASSERT_GT(dom.size(), 1000u) << ReadFile((dir / "dom.log").string());

  // Every team sent has its row in the team table.
  const size_t team_table = dom.find("team-rows");
  ASSERT_NE(team_table, std::string::npos);
  const size_t team_table_end = dom.find("</table>", team_table);
  for (const auto& [team, cost] : sent_.by_team) {
    const size_t cell = dom.find(absl::StrCat("<td>", team, "</td>"), team_table);
    EXPECT_TRUE(cell != std::string::npos && cell < team_table_end) << team;
  }
  // Charts for a finance reader: spend per team against budget, the daily trend, spend by
  // model and by provider, tenants; the unattributed share as a number and a bar.
  EXPECT_GT(MaxRectWidth(dom, "chart-teams"), 50);
  EXPECT_GT(MaxRectWidth(dom, "chart-features"), 50);
  EXPECT_GT(MaxRectWidth(dom, "chart-tenants"), 50);
  EXPECT_GT(MaxRectWidth(dom, "chart-models"), 50);
  EXPECT_GT(MaxRectWidth(dom, "chart-providers"), 50);
  EXPECT_NE(dom.find("<svg id=\"chart-trend\""), std::string::npos);
  for (const auto& [team, cost] : sent_.by_team) {
    EXPECT_NE(dom.find(absl::StrCat("<title>", team, " ")), std::string::npos)
        << "no trend point for " << team;
  }
  EXPECT_NE(dom.find("id=\"unattributed-share\""), std::string::npos);
  // The budget cap with its burn rate and forecast; amounts in dollars; no regular expression
  // in front of a reader.
  EXPECT_NE(dom.find("cap-rows"), std::string::npos);
  EXPECT_NE(dom.find("per day"), std::string::npos);
  EXPECT_NE(dom.find("USD"), std::string::npos);
  EXPECT_NE(dom.find(absl::StrCat("<td>$")), std::string::npos);
  EXPECT_EQ(dom.find("{0,63}"), std::string::npos);

  // Layout measured by the browser at laptop width: nothing wider than the window, nothing
  // clipped, bars and points where their values put them, every chart scaled to its data, no
  // empty table.
  const std::string probe_html = (dir / "probe.html").string();
  {
    std::string page = report.rendered();
    const size_t body_end = page.rfind("</body>");
    ASSERT_NE(body_end, std::string::npos);
    page.insert(body_end, kLayoutProbe);
    std::ofstream(probe_html, std::ios::binary) << page;
  }
  const std::string probe_dom = (dir / "probe-dom.html").string();
  const std::string probe =
      absl::StrCat("timeout 180 ", kChromium,
                   " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                   " --disable-background-networking --disable-component-update --disable-sync"
                   " --user-data-dir=",
                   (dir / "profile-probe").string(), " --window-size=1366,768 --dump-dom file://",
                   probe_html, " >", probe_dom, " 2>", (dir / "probe.log").string());
  EXPECT_EQ(std::system(probe.c_str()), 0) << probe << "\n"
                                           << ReadFile((dir / "probe.log").string());
  const std::string measured = ReadFile(probe_dom);
  const std::string pre_tag = "<pre id=\"layout-report\">";
  const size_t pre = measured.find(pre_tag);
  ASSERT_NE(pre, std::string::npos) << ReadFile((dir / "probe.log").string());
  const size_t start = pre + pre_tag.size();
  std::string json = measured.substr(start, measured.find("</pre>", start) - start);
  json = absl::StrReplaceAll(json, {{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}});
  const nlohmann::json layout = nlohmann::json::parse(json, nullptr, false);
  ASSERT_FALSE(layout.is_discarded()) << json;
  EXPECT_EQ(layout["viewport"].get<int>(), 1366) << json;
  EXPECT_LE(layout["documentWidth"].get<int>(), layout["viewport"].get<int>()) << json;
  EXPECT_GE(layout["charts"].get<int>(), 6) << json;
  EXPECT_GE(layout["bars"].get<int>(), 20) << json;
  EXPECT_GE(layout["tables"].get<int>(), 4) << json;
  EXPECT_TRUE(layout["problems"].empty()) << layout["problems"].dump(2);

  // Printable: Chromium prints it to a PDF.
  const std::string pdf = (dir / "page.pdf").string();
  const std::string print = chromium("profile-pdf", absl::StrCat("--print-to-pdf=", pdf)) + " >" +
                            (dir / "pdf.log").string() + " 2>&1";
  EXPECT_EQ(std::system(print.c_str()), 0) << print << "\n" << ReadFile((dir / "pdf.log").string());
  EXPECT_EQ(ReadFile(pdf).substr(0, 5), "%PDF-");
  EXPECT_GT(std::filesystem::file_size(pdf, ec), 10u * 1024);

  // Kept on failure (and with STEPLEDGER_KEEP_E2E_ARTIFACTS set) for a look at the page.
  if (HasFailure() || std::getenv("STEPLEDGER_KEEP_E2E_ARTIFACTS") != nullptr) {
    std::cerr << "report artifacts in " << dir << "\n";
  } else {
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace
}  // namespace stepledger
