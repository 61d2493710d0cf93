// E2E for run trees (issue 3): generated agent runs sent out of order over several streams,
// children days before their roots, read back with Collector.GetRun and `stepledger run show`.
#include <google/protobuf/util/json_util.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/lib/run_client.h"
#include "client/lib/send_all.h"
#include "gtest/gtest.h"
#include "server/domain/step.h"
#include "server/transport/step_convert.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"
#include "tests/fakes/run_generator.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::GeneratedRun;
using testing::RunGenerator;
using testing::RunGeneratorOptions;
using testing::TestDatabase;

// ---- domain::Step (what the generator makes) -> v1::StepEvent (what a gateway sends) ----
// Tags and kinds go through the collector's own conversions (transport/step_convert.h).

void ToProto(absl::Time t, google::protobuf::Timestamp* out) {
  const timespec ts = absl::ToTimespec(t);
  out->set_seconds(ts.tv_sec);
  out->set_nanos(static_cast<int32_t>(ts.tv_nsec));
}

v1::StepEvent ToEvent(const domain::Step& s) {
  v1::StepEvent e;
  e.set_event_id(s.event_id);
  transport::ToProto(s.tags, e.mutable_tags());
  e.set_step_id(s.step_id);
  e.set_parent_step_id(s.parent_step_id);
  e.set_kind(transport::ToProto(s.kind));
  e.set_name(s.name);
  e.set_provider(s.provider);
  e.set_model(s.model);
  v1::Usage* u = e.mutable_usage();
  if (s.usage.input_uncached_tokens) u->set_input_uncached_tokens(*s.usage.input_uncached_tokens);
  if (s.usage.cache_read_tokens) u->set_cache_read_tokens(*s.usage.cache_read_tokens);
  if (s.usage.cache_write_tokens) u->set_cache_write_tokens(*s.usage.cache_write_tokens);
  if (s.usage.output_tokens) u->set_output_tokens(*s.usage.output_tokens);
  if (s.usage.reasoning_tokens) u->set_reasoning_tokens(*s.usage.reasoning_tokens);
  if (s.cost_nano_usd) e.set_cost_nano_usd(*s.cost_nano_usd);
  e.set_tool_name(s.tool_name);
  e.set_tool_owner_team(s.tool_owner_team);
  e.set_status(s.status);
  e.set_operation_id(s.operation_id);
  e.set_attempt(s.attempt);
  if (s.started_at) ToProto(*s.started_at, e.mutable_started_at());
  if (s.ended_at) ToProto(*s.ended_at, e.mutable_ended_at());
  return e;
}

// What the test itself knows about a run from the events it sent (never from the collector).
struct Expected {
  std::string run_id;
  domain::Tags root_tags;
  int64_t total_nano_usd = 0;
  int64_t retry_nano_usd = 0;
  int64_t steps = 0;
  int64_t tool_steps = 0;
};

client::SendOptions FourStreams() {
  client::SendOptions options;
  options.streams = 4;
  options.stream.batch_size = 500;
  options.stream.deadline = absl::Minutes(5);
  return options;
}

// Walks a GetRun answer and reports every way it disagrees with what was sent. Empty: agrees.
std::string Check(const Expected& want, const v1::Run& run) {
  std::ostringstream bad;
  if (run.run_id() != want.run_id) bad << " run_id=" << run.run_id();
  if (run.total_cost_nano_usd() != want.total_nano_usd) {
    bad << " total=" << run.total_cost_nano_usd() << " want " << want.total_nano_usd;
  }
  if (run.retry_cost_nano_usd() != want.retry_nano_usd) {
    bad << " retry=" << run.retry_cost_nano_usd() << " want " << want.retry_nano_usd;
  }
  if (run.step_count() != want.steps)
    bad << " steps=" << run.step_count() << " want " << want.steps;
  if (run.pending_steps() != 0) bad << " pending=" << run.pending_steps();
  if (run.unpriced_steps() != 0) bad << " unpriced=" << run.unpriced_steps();
  if (run.roots_size() != 1) bad << " roots=" << run.roots_size();
  if (run.orphans_size() != 0) bad << " orphans=" << run.orphans_size();
  if (run.invalid_size() != 0) bad << " invalid=" << run.invalid_size();
  if (run.issues_size() != 0) bad << " issue: " << run.issues(0);
  if (run.charged_tags().team() != want.root_tags.team ||
      run.charged_tags().feature() != want.root_tags.feature) {
    bad << " run charged to " << run.charged_tags().feature() << "/" << run.charged_tags().team();
  }
  if (run.roots_size() == 1 && run.roots(0).subtree_cost_nano_usd() != want.total_nano_usd) {
    bad << " root subtree=" << run.roots(0).subtree_cost_nano_usd();
  }
  // Every node: the calling feature pays; tool steps keep their owner and inherit.
  int64_t tool_steps = 0;
  int64_t nodes = 0;
  std::vector<const v1::RunNode*> stack;
  for (const auto& r : run.roots()) stack.push_back(&r);
  while (!stack.empty()) {
    const v1::RunNode* n = stack.back();
    stack.pop_back();
    ++nodes;
    for (const auto& c : n->children()) stack.push_back(&c);
    if (n->charged_tags().team() != want.root_tags.team ||
        n->charged_tags().feature() != want.root_tags.feature ||
        n->charged_tags().tenant() != want.root_tags.tenant) {
      bad << " step " << n->step_id() << " (" << v1::StepKind_Name(n->kind()) << ", "
          << n->attribution_status() << ") charged to " << n->charged_tags().team();
    }
    if (n->kind() == v1::STEP_KIND_TOOL_CALL) {
      ++tool_steps;
      if (n->tool_owner_team().empty() || n->tool_owner_team() == want.root_tags.team) {
        bad << " tool step " << n->step_id() << " owner '" << n->tool_owner_team() << "'";
      }
      if (n->attribution_status() != "inherited") {
        bad << " tool step " << n->step_id() << " attribution " << n->attribution_status();
      }
    }
    if (n->tag_drift()) bad << " step " << n->step_id() << " drift";
  }
  if (nodes != want.steps) bad << " nodes=" << nodes;
  if (tool_steps != want.tool_steps)
    bad << " tool_steps=" << tool_steps << " want " << want.tool_steps;
  return bad.str();
}

TEST(RunsE2ETest, TwoThousandRunsSentShuffledWithChildrenDaysEarlyAddUpAndTheCallerPays) {
  constexpr int kRuns = 2000;
  constexpr int kEarlyPercent = 30;  // of non-root steps, sent in a first pass
  const absl::Duration kEarlyShift = absl::Hours(24 * 3);

  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();

  RunGeneratorOptions options;  // depth <= 5, fan-out <= 8, 5% retries, 30% tool steps
  options.start = absl::Now() - absl::Hours(48);
  RunGenerator gen(20261128, options);
  std::vector<Expected> expected;
  std::vector<v1::StepEvent> early;
  std::vector<v1::StepEvent> rest;
  int64_t retried_steps = 0;
  for (int r = 0; r < kRuns; ++r) {
    GeneratedRun run = gen.Next();
    Expected want{run.run_id, run.root_tags};
    for (domain::Step& s : run.steps) {
      // The expectation is computed here, from what is sent, and nowhere else.
      want.total_nano_usd += s.cost_nano_usd.value_or(0);
      if (s.attempt > 1) {
        want.retry_nano_usd += s.cost_nano_usd.value_or(0);
        ++retried_steps;
      }
      ++want.steps;
      if (s.kind == domain::StepKind::kToolCall) ++want.tool_steps;
      const bool is_root = s.parent_step_id.empty();
      if (!is_root && gen.Uniform(100) < kEarlyPercent) {
        // Emitted days before the root (a long-running sub-task, a replayed buffer).
        *s.started_at -= kEarlyShift;
        *s.ended_at -= kEarlyShift;
        early.push_back(ToEvent(s));
      } else {
        rest.push_back(ToEvent(s));
      }
    }
    expected.push_back(std::move(want));
  }
  gen.Shuffle(early);
  gen.Shuffle(rest);
  ASSERT_GT(retried_steps, 0);
  ASSERT_GT(early.size(), 1000u);

  const absl::Time sent_start = absl::Now();
  client::StreamResult first = client::SendAll(collector.target(), early, FourStreams());
  ASSERT_TRUE(first.all_acked()) << first.status << "\n" << collector.Log();
  EXPECT_EQ(first.totals.accepted, static_cast<int64_t>(early.size()));
  EXPECT_EQ(first.totals.rejected, 0)
      << (first.rejections.empty() ? "" : first.rejections[0].reason());
  client::StreamResult second = client::SendAll(collector.target(), rest, FourStreams());
  ASSERT_TRUE(second.all_acked()) << second.status << "\n" << collector.Log();
  EXPECT_EQ(second.totals.accepted, static_cast<int64_t>(rest.size()));
  EXPECT_EQ(second.totals.rejected, 0)
      << (second.rejections.empty() ? "" : second.rejections[0].reason());
  const absl::Duration send_time = absl::Now() - sent_start;

  // Every run read back, four callers at a time over one channel.
  const absl::Time read_start = absl::Now();
  auto stub = v1::Collector::NewStub(client::MakeRunChannel(collector.target()));
  std::vector<absl::StatusOr<v1::Run>> got(kRuns, absl::UnknownError("not asked"));
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int r = t; r < kRuns; r += 4) got[r] = client::GetRun(*stub, expected[r].run_id);
    });
  }
  for (std::thread& t : readers) t.join();
  const absl::Duration read_time = absl::Now() - read_start;

  int mismatched = 0;
  int64_t grand_total = 0;
  for (int r = 0; r < kRuns; ++r) {
    ASSERT_TRUE(got[r].ok()) << expected[r].run_id << ": " << got[r].status();
    grand_total += got[r]->total_cost_nano_usd();
    const std::string problems = Check(expected[r], *got[r]);
    if (!problems.empty() && ++mismatched <= 5) {
      ADD_FAILURE() << "run " << expected[r].run_id << ":" << problems;
    }
  }
  EXPECT_EQ(mismatched, 0) << "of " << kRuns << " runs";

  // The ledger agrees: nothing is left pending, and the runs table (maintained by the write
  // path) holds the same totals as the trees GetRun assembled from the steps.
  pqxx::connection conn(db.url());
  pqxx::nontransaction txn(conn);
  EXPECT_EQ(
      txn.exec1("SELECT count(*) FROM steps WHERE attribution_status = 'pending'")[0].as<int64_t>(),
      0);
  EXPECT_EQ(txn.exec1("SELECT COALESCE(sum(pending_steps), 0) FROM runs")[0].as<int64_t>(), 0);
  EXPECT_EQ(txn.exec1("SELECT COALESCE(sum(total_cost_nano_usd), 0) FROM runs")[0].as<int64_t>(),
            grand_total);
  std::cerr << "runs e2e: " << kRuns << " runs, " << early.size() + rest.size() << " steps ("
            << early.size() << " sent early, " << retried_steps << " retries) sent in "
            << absl::FormatDuration(send_time) << ", read back in "
            << absl::FormatDuration(read_time) << "\n";
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

// Runs the real `stepledger` binary; returns its exit status and what it printed on stdout.
int RunCli(const std::string& args, std::string* out) {
  const std::string path = "/tmp/stepledger-runs-e2e-" + std::to_string(getpid()) + ".out";
  const int rc = std::system(
      (std::string(STEPLEDGER_CLI_BIN) + " " + args + " >" + path + " 2>>" + path + ".err")
          .c_str());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  std::remove(path.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(RunsE2ETest, UnknownRunIsNotFoundAndRunShowPrintsTheTreeAndItsJson) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();

  RunGeneratorOptions options;
  options.start = absl::Now() - absl::Hours(1);
  RunGenerator gen(7, options);
  GeneratedRun run = gen.Next();
  while (run.tool_steps == 0 || run.steps.size() < 5) run = gen.Next();
  std::vector<v1::StepEvent> events;
  for (const domain::Step& s : run.steps) events.push_back(ToEvent(s));
  gen.Shuffle(events);
  ASSERT_TRUE(client::SendAll(collector.target(), events, FourStreams()).all_acked());

  auto stub = v1::Collector::NewStub(client::MakeRunChannel(collector.target()));
  absl::StatusOr<v1::Run> missing = client::GetRun(*stub, "run-that-was-never-sent");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  absl::StatusOr<v1::Run> empty = client::GetRun(*stub, "");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("run_id"), std::string::npos) << empty.status();
  absl::StatusOr<v1::Run> too_long = client::GetRun(*stub, std::string(129, 'r'));
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<v1::Run> got = client::GetRun(*stub, run.run_id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->total_cost_nano_usd(), run.total_cost_nano_usd);

  const std::string target = "--target " + collector.target();
  std::string out;
  EXPECT_EQ(RunCli(target + " run show run-that-was-never-sent", &out), 4);
  EXPECT_EQ(RunCli(target + " run show " + run.run_id, &out), 0);
  EXPECT_NE(out.find("STEP"), std::string::npos) << out;
  EXPECT_NE(out.find(run.steps[0].step_id), std::string::npos) << out;
  EXPECT_NE(out.find("Totals"), std::string::npos) << out;
  EXPECT_EQ(RunCli(target + " run show " + run.run_id + " --json", &out), 0);
  v1::Run parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(out, &parsed).ok()) << out;
  EXPECT_EQ(parsed.SerializeAsString(), got->SerializeAsString());
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

}  // namespace
}  // namespace stepledger
