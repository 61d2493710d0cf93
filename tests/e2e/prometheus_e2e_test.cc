// E2E: a real Prometheus server scrapes a real collector that took steps from the real client
// library; what Prometheus answers over its HTTP API must equal what was sent.
//
// Costs are multiples of 1/512 USD (1,953,125 nano-USD), so every sum is exact in binary and
// the comparisons are equalities, not tolerances.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/send_all.h"
#include "client/lib/step_stream_client.h"
#include "gtest/gtest.h"
#include "stepledger/v1/budget.grpc.pb.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::TestDatabase;

constexpr int64_t kUnitNano = 1'953'125;  // 1/512 USD
constexpr double kUnitUsd = 1.0 / 512;

struct HttpResponse {
  int status = 0;
  std::string body;
};

// A plain HTTP/1.0 GET on 127.0.0.1 (the server closes the connection after the body).
std::optional<HttpResponse> HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return std::nullopt;
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return std::nullopt;
  }
  std::string raw;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string::npos || raw.rfind("HTTP/", 0) != 0) return std::nullopt;
  HttpResponse r;
  r.status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  r.body = raw.substr(header_end + 4);
  return r;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

// Runs a command through the shell; returns its exit code and combined output.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buf[4096];
  while (fgets(buf, sizeof(buf), pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A Prometheus server on a free loopback port, with a temporary config and TSDB, scraping one
// collector every second and evaluating the project's rule files. Stopped (SIGTERM) and its
// directory removed on destruction.
class PrometheusProcess {
 public:
  explicit PrometheusProcess(int collector_metrics_port) {
    port_ = testing::PickFreePort();
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("stepledger-e2e-prometheus-", getpid(), "-", port_);
    std::filesystem::create_directories(dir_ / "data");
    const std::string rules = std::string(STEPLEDGER_SOURCE_DIR) + "/deploy/prometheus/";
    std::ofstream(dir_ / "prometheus.yml") << "global:\n"
                                              "  scrape_interval: 1s\n"
                                              "  evaluation_interval: 1s\n"
                                              "rule_files:\n"
                                           << "  - " << rules << "recording_rules.yml\n"
                                           << "  - " << rules << "alert_rules.yml\n"
                                           << "scrape_configs:\n"
                                              "  - job_name: stepledger-collector\n"
                                              "    scrape_interval: 1s\n"
                                              "    scrape_timeout: 1s\n"
                                              "    static_configs:\n"
                                              "      - targets: ['127.0.0.1:"
                                           << collector_metrics_port << "']\n";
  }
  ~PrometheusProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  bool Start() {
    std::vector<std::string> args = {
        STEPLEDGER_PROMETHEUS_BIN, "--config.file=" + (dir_ / "prometheus.yml").string(),
        "--storage.tsdb.path=" + (dir_ / "data").string(),
        absl::StrCat("--web.listen-address=127.0.0.1:", port_), "--log.level=warn"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / "prometheus.log").string();
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return false;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      auto r = HttpGet(port_, "/-/ready");
      if (r.has_value() && r->status == 200) return true;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return false;
  }

  // The instant-vector result of `promql`, or nullopt when the query itself failed.
  std::optional<nlohmann::json> Query(const std::string& promql) {
    auto r = HttpGet(port_, "/api/v1/query?query=" + UrlEncode(promql));
    if (!r.has_value() || r->status != 200) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
    return j["data"]["result"];
  }

  // The value of a query that returns one sample (e.g. a sum()), or nullopt if none.
  std::optional<double> Scalar(const std::string& promql) {
    auto result = Query(promql);
    if (!result.has_value() || result->size() != 1) return std::nullopt;
    return std::stod((*result)[0]["value"][1].get<std::string>());
  }

  // label value -> sample value, for a query aggregated `by (label)`.
  std::map<std::string, double> By(const std::string& label, const std::string& promql) {
    std::map<std::string, double> out;
    auto result = Query(promql);
    if (!result.has_value()) return out;
    for (const auto& sample : *result) {
      out[sample["metric"].value(label, "")] = std::stod(sample["value"][1].get<std::string>());
    }
    return out;
  }

  // Polls until `promql` yields `expected` (the scrape that carries it may be a second away).
  bool WaitFor(const std::string& promql, double expected, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::optional<double> v = Scalar(promql);
      if (v.has_value() && *v == expected) return true;
      absl::SleepFor(absl::Milliseconds(250));
    }
    return false;
  }

  std::string Log() const {
    std::ifstream in(dir_ / "prometheus.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  int port_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
};

// What was sent, as Prometheus should add it up.
struct Expected {
  double total_usd = 0;                   // every stored step (complete + defaulted)
  std::map<std::string, double> by_team;  // by charged team
  std::map<std::string, double> by_feature;
  double defaulted_usd = 0;
  double quarantined_usd = 0;
  double retry_usd = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::set<std::string> tenants;
};

v1::StepEvent Event(int i, Expected& expected) {
  static const char* kFeatures[] = {"inbox-triage", "doc-qa", "code-review", "meeting-notes"};
  static const char* kTeams[] = {"mail-ai", "knowledge", "devtools", "productivity"};
  v1::StepEvent e;
  e.set_event_id(absl::StrCat("prom-", i));
  // Every step of a run carries its run's tags (as real agents do): the ledger, and so the
  // metrics, charge a run's steps to its root's tags, which are then the same.
  const int f = (i / 10) % 4;
  v1::Tags* t = e.mutable_tags();
  t->set_feature(kFeatures[f]);
  t->set_team(kTeams[f]);
  t->set_workload_class(i % 3 == 0 ? v1::WORKLOAD_CLASS_BATCH : v1::WORKLOAD_CLASS_INTERACTIVE);
  const std::string tenant = absl::StrCat("tenant-", (i / 10) % 20);
  t->set_tenant(tenant);
  t->set_environment(v1::ENVIRONMENT_PRODUCTION);
  t->set_parent_run_id(absl::StrCat("run-", i / 10));
  e.set_step_id(absl::StrCat("s-", i));
  if (i % 10 != 0) e.set_parent_step_id(absl::StrCat("s-", i - i % 10));
  e.set_kind(i % 5 == 0 ? v1::STEP_KIND_TOOL_CALL : v1::STEP_KIND_MODEL_CALL);
  e.set_name("planner");
  e.set_provider("openai");
  e.set_model("gpt-4o");
  e.mutable_usage()->set_input_uncached_tokens(100 + i);
  e.mutable_usage()->set_output_tokens(10 + i % 7);
  const int64_t units = 1 + (i * 7) % 64;
  e.set_cost_nano_usd(units * kUnitNano);
  e.set_operation_id(absl::StrCat("op-", i));
  e.set_attempt(i % 9 == 0 ? 2 : 1);
  const int64_t started = absl::ToUnixSeconds(absl::Now()) - 60;
  e.mutable_started_at()->set_seconds(started);
  e.mutable_ended_at()->set_seconds(started + 1);

  const double usd = static_cast<double>(units) * kUnitUsd;
  expected.total_usd += usd;
  expected.by_team[kTeams[f]] += usd;
  expected.by_feature[kFeatures[f]] += usd;
  if (e.attempt() > 1) expected.retry_usd += usd;
  expected.input_tokens += 100 + i;
  expected.output_tokens += 10 + i % 7;
  expected.tenants.insert(tenant);
  return e;
}

TEST(PrometheusE2ETest, PrometheusScrapesSpendThatAddsUpExactlyToWhatWasSentOnce) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url(), {"--metrics-top-tenants=5"});
  ASSERT_TRUE(collector.Start()) << collector.Log();
  PrometheusProcess prometheus(collector.metrics_port());
  ASSERT_TRUE(prometheus.Start()) << prometheus.Log();

  Expected expected;
  std::vector<v1::StepEvent> events;
  for (int i = 0; i < 600; ++i) events.push_back(Event(i, expected));
  // Outside production, missing feature and team are defaulted to "(unattributed)".
  for (int i = 0; i < 12; ++i) {
    v1::StepEvent e = Event(1000 + i, expected);
    expected.by_team[e.tags().team()] -= static_cast<double>(e.cost_nano_usd()) / 1e9;
    expected.by_feature[e.tags().feature()] -= static_cast<double>(e.cost_nano_usd()) / 1e9;
    e.mutable_tags()->set_environment(v1::ENVIRONMENT_STAGING);
    e.mutable_tags()->clear_feature();
    e.mutable_tags()->clear_team();
    const double usd = static_cast<double>(e.cost_nano_usd()) / 1e9;
    expected.by_team["(unattributed)"] += usd;
    expected.by_feature["(unattributed)"] += usd;
    expected.defaulted_usd += usd;
    events.push_back(e);
  }
  // Malformed in production: quarantined, their cost counted as unattributed, not as spend.
  for (int i = 0; i < 8; ++i) {
    Expected ignored;
    v1::StepEvent e = Event(2000 + i, ignored);
    e.mutable_tags()->set_team("Mail AI");
    expected.quarantined_usd += static_cast<double>(e.cost_nano_usd()) / 1e9;
    events.push_back(e);
  }

  client::SendOptions options;
  options.streams = 2;
  options.stream.batch_size = 100;
  options.stream.deadline = absl::Minutes(2);
  client::StreamResult first = client::SendAll(collector.target(), events, options);
  ASSERT_TRUE(first.all_acked()) << first.status << "\n" << collector.Log();
  ASSERT_EQ(first.totals.accepted, 612);
  ASSERT_EQ(first.totals.rejected, 8);
  // Everything again: duplicates and re-quarantined events must not count twice.
  client::StreamResult again = client::SendAll(collector.target(), events, options);
  ASSERT_TRUE(again.all_acked()) << again.status << "\n" << collector.Log();
  ASSERT_EQ(again.totals.duplicates, 612);

  ASSERT_TRUE(
      prometheus.WaitFor("sum(stepledger_spend_usd_total)", expected.total_usd, absl::Seconds(30)))
      << "Prometheus has " << prometheus.Scalar("sum(stepledger_spend_usd_total)").value_or(-1)
      << ", sent " << expected.total_usd << "\n"
      << prometheus.Log();
  // One more scrape after the value settled: nothing is added late (no double count).
  absl::SleepFor(absl::Seconds(2));
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_spend_usd_total)"), expected.total_usd);
  EXPECT_EQ(prometheus.Scalar("up{job=\"stepledger-collector\"}"), 1.0);

  EXPECT_EQ(prometheus.By("team", "sum by (team) (stepledger_spend_usd_total)"), expected.by_team);
  EXPECT_EQ(prometheus.By("feature", "sum by (feature) (stepledger_spend_usd_total)"),
            expected.by_feature);
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_spend_usd_total{environment=\"staging\"})"),
            expected.defaulted_usd);
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_retry_spend_usd_total)"), expected.retry_usd);

  // Unattributed by reason: ledger-side (defaulted) and quarantined, each counted once.
  const auto unattributed =
      prometheus.By("reason", "sum by (reason) (stepledger_unattributed_spend_usd_total)");
  EXPECT_EQ(unattributed,
            (std::map<std::string, double>{{"defaulted", expected.defaulted_usd},
                                           {"quarantined", expected.quarantined_usd}}));

  // Tenants: 20 sent, 5 with their own series plus "other"; the sum is still everything (all
  // spend committed before the first re-choice of tenant slots, a minute after start).
  EXPECT_EQ(prometheus.Scalar("count(stepledger_tenant_spend_usd_total)"), 6.0);
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_tenant_spend_usd_total)"), expected.total_usd);
  EXPECT_GT(prometheus.Scalar("stepledger_tenant_spend_usd_total{tenant=\"other\"}").value_or(0),
            0.0);

  EXPECT_EQ(prometheus.Scalar("sum(stepledger_tokens_total{bucket=\"input_uncached\"})"),
            static_cast<double>(expected.input_tokens));
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_tokens_total{bucket=\"output\"})"),
            static_cast<double>(expected.output_tokens));
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_steps_stored_total)"), 612.0);
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_events_accepted_total)"), 612.0);

  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

TEST(PrometheusE2ETest, BudgetDecisionsAndUtilisationReachPrometheusExactly) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url(), {"--budget-refresh-interval=200ms"});
  ASSERT_TRUE(collector.Start()) << collector.Log();
  PrometheusProcess prometheus(collector.metrics_port());
  ASSERT_TRUE(prometheus.Start()) << prometheus.Log();
  auto stub = v1::Budget::NewStub(client::MakeCollectorChannel(collector.target()));

  v1::PutBudgetRequest put;
  v1::Cap* cap = put.mutable_cap();
  cap->set_id("team-mail-ai-daily");
  cap->set_scope(v1::SCOPE_TEAM);
  cap->set_key("mail-ai");
  cap->set_period(v1::PERIOD_DAILY);
  cap->set_limit_nano_usd(1'000'000'000);  // $1
  cap->set_owner("mail-ai");
  cap->set_signed_off_by("finance");
  put.set_changed_by("e2e");
  v1::Cap stored;
  grpc::ClientContext put_ctx;
  ASSERT_TRUE(stub->PutBudget(&put_ctx, put, &stored).ok());

  // Known decisions: 5 ALLOW ($0.10), 2 ALERT ($0.85: past 80%), 3 REQUIRE_ACK ($1.50).
  auto check = [&](int64_t estimate) {
    v1::CheckBudgetRequest req;
    v1::Tags* t = req.mutable_tags();
    t->set_feature("inbox-triage");
    t->set_team("mail-ai");
    t->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
    t->set_tenant("acme");
    t->set_environment(v1::ENVIRONMENT_PRODUCTION);
    t->set_parent_run_id("run-1");
    req.set_estimated_cost_nano_usd(estimate);
    v1::CheckBudgetResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub->CheckBudget(&ctx, req, &resp).ok());
    return resp.decision();
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(check(100'000'000), v1::DECISION_ALLOW);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(check(850'000'000), v1::DECISION_ALERT);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(check(1'500'000'000), v1::DECISION_REQUIRE_ACK);

  EXPECT_TRUE(prometheus.WaitFor("sum(stepledger_budget_decisions_total{decision=\"allow\"})", 5,
                                 absl::Seconds(30)))
      << prometheus.Log();
  EXPECT_EQ(prometheus.Scalar("sum(stepledger_budget_decisions_total{decision=\"alert\"})"), 2.0);
  EXPECT_EQ(prometheus.Scalar(
                "sum(stepledger_budget_decisions_total{decision=\"require_ack\",scope=\"team\"})"),
            3.0);
  EXPECT_EQ(prometheus.Scalar("stepledger_budget_limit_usd{cap_id=\"team-mail-ai-daily\"}"), 1.0);
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

TEST(PrometheusE2ETest, PromtoolFindsNoProblemsInAScrapeOfMetrics) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();
  // Some traffic, so that labelled families have series (an empty family is not linted).
  Expected expected;
  std::vector<v1::StepEvent> events;
  for (int i = 0; i < 40; ++i) events.push_back(Event(i, expected));
  v1::StepEvent bad = Event(99, expected);
  bad.mutable_tags()->set_team("Mail AI");
  events.push_back(bad);
  client::SendOptions options;
  options.stream.deadline = absl::Minutes(1);
  ASSERT_TRUE(client::SendAll(collector.target(), events, options).all_acked());

  std::optional<HttpResponse> scrape = HttpGet(collector.metrics_port(), "/metrics");
  ASSERT_TRUE(scrape.has_value());
  ASSERT_EQ(scrape->status, 200);
  ASSERT_NE(scrape->body.find("stepledger_spend_usd_total{"), std::string::npos);
  const std::string path = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                        "/stepledger-scrape-", getpid(), ".txt");
  std::ofstream(path) << scrape->body;
  auto [code, output] = Shell(absl::StrCat(STEPLEDGER_PROMTOOL_BIN, " check metrics < ", path));
  std::filesystem::remove(path);
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(output, "") << output;
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

}  // namespace
}  // namespace stepledger
