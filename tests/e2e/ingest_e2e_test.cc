// E2E: real collector processes, real PostgreSQL, the real client library.
#include <algorithm>
#include <cstdlib>
#include <pqxx/pqxx>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/send_all.h"
#include "client/lib/step_stream_client.h"
#include "gtest/gtest.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::TestDatabase;

struct Workload {
  std::vector<v1::StepEvent> events;  // in send order
  int64_t unique_valid = 0;
  int64_t duplicates = 0;
  int64_t invalid = 0;
};

v1::StepEvent ValidEvent(int i, std::mt19937& rng) {
  static const char* kFeatures[] = {"inbox-triage", "doc-qa", "code-review", "meeting-notes"};
  static const char* kTeams[] = {"mail-ai", "knowledge", "devtools", "productivity"};
  v1::StepEvent e;
  e.set_event_id(absl::StrCat("evt-", i));
  v1::Tags* t = e.mutable_tags();
  const int f = i % 4;
  t->set_feature(kFeatures[f]);
  t->set_team(kTeams[f]);
  t->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
  t->set_tenant(absl::StrCat("tenant-", rng() % 50));
  t->set_environment(v1::ENVIRONMENT_PRODUCTION);
  t->set_parent_run_id(absl::StrCat("run-", i / 8));
  e.set_step_id(absl::StrCat("s-", i));
  if (i % 8 != 0) e.set_parent_step_id(absl::StrCat("s-", i - i % 8));
  e.set_kind(v1::STEP_KIND_MODEL_CALL);
  e.set_name("planner");
  e.set_provider("openai");
  e.set_model("gpt-4o");
  e.mutable_usage()->set_input_uncached_tokens(100 + rng() % 1000);
  e.mutable_usage()->set_output_tokens(10 + rng() % 100);
  e.set_cost_nano_usd(1000 + rng() % 100000);
  e.set_attempt(1);
  // Spread over the last three days, so several partitions are written.
  const int64_t started = absl::ToUnixSeconds(absl::Now()) - (rng() % (3 * 86400));
  e.mutable_started_at()->set_seconds(started);
  e.mutable_ended_at()->set_seconds(started + 2);
  (*e.mutable_attributes())["gen_ai.request.model"] = "gpt-4o";
  return e;
}

// 20,000 events: 2% invalid (malformed team), 10% exact re-sends of valid
// events, the rest unique and valid; shuffled.
Workload MakeWorkload(int total, uint32_t seed) {
  std::mt19937 rng(seed);
  Workload w;
  const int duplicates = total / 10;
  const int invalid = total / 50;
  const int unique_valid = total - duplicates - invalid;
  for (int i = 0; i < unique_valid; ++i) w.events.push_back(ValidEvent(i, rng));
  for (int i = 0; i < duplicates; ++i) w.events.push_back(w.events[rng() % unique_valid]);
  for (int i = 0; i < invalid; ++i) {
    v1::StepEvent e = ValidEvent(unique_valid + i, rng);
    e.set_event_id(absl::StrCat("bad-", i));
    e.mutable_tags()->set_team("Mail AI");  // malformed: rejected in every environment
    w.events.push_back(e);
  }
  std::shuffle(w.events.begin(), w.events.end(), rng);
  w.unique_valid = unique_valid;
  w.duplicates = duplicates;
  w.invalid = invalid;
  return w;
}

int64_t Count(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::nontransaction txn(c);
  return txn.exec1(sql)[0].as<int64_t>();
}

client::SendOptions FourStreams() {
  client::SendOptions options;
  options.streams = 4;
  options.stream.batch_size = 500;
  options.stream.deadline = absl::Minutes(5);
  return options;
}

TEST(IngestE2ETest, FourStreamsWithDuplicatesAndInvalidEventsAddUpExactlyAndSurviveRestart) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  Workload w = MakeWorkload(20000, 42);

  CollectorProcess collector(db.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();
  client::StreamResult first = client::SendAll(collector.target(), w.events, FourStreams());
  ASSERT_TRUE(first.all_acked()) << first.status << "\n" << collector.Log();
  EXPECT_EQ(first.totals.accepted, w.unique_valid);
  EXPECT_EQ(first.totals.duplicates, w.duplicates);
  EXPECT_EQ(first.totals.rejected, w.invalid);
  EXPECT_EQ(first.totals.accepted + first.totals.duplicates + first.totals.rejected,
            static_cast<int64_t>(w.events.size()));
  for (const auto& r : first.rejections) {
    EXPECT_EQ(r.field(), "tags.team");
    EXPECT_EQ(r.event_id().rfind("bad-", 0), 0u);
  }
  EXPECT_EQ(Count(db.url(), "SELECT count(*) FROM steps"), w.unique_valid);
  EXPECT_EQ(Count(db.url(), "SELECT count(DISTINCT event_id) FROM steps"), w.unique_valid);
  EXPECT_EQ(Count(db.url(), "SELECT count(*) FROM quarantine"), w.invalid);
  EXPECT_GE(Count(db.url(), "SELECT count(DISTINCT date_trunc('day', occurred_at)) FROM steps"), 3);

  // SIGTERM: clean exit; then a new process and everything re-sent.
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
  CollectorProcess again(db.url());
  ASSERT_TRUE(again.Start()) << again.Log();
  client::StreamResult second = client::SendAll(again.target(), w.events, FourStreams());
  ASSERT_TRUE(second.all_acked()) << second.status << "\n" << again.Log();
  EXPECT_EQ(second.totals.accepted, 0);
  EXPECT_EQ(second.totals.duplicates, w.unique_valid + w.duplicates);
  EXPECT_EQ(second.totals.rejected, w.invalid);  // still invalid; quarantined once
  EXPECT_EQ(Count(db.url(), "SELECT count(*) FROM steps"), w.unique_valid);
  EXPECT_EQ(Count(db.url(), "SELECT count(*) FROM quarantine"), w.invalid);
  EXPECT_EQ(again.Stop(), 0) << again.Log();
}

// Runs a private PostgreSQL through deploy/local/pg.sh so the test can stop it.
class PrivatePostgres {
 public:
  PrivatePostgres() {
    const char* script = std::getenv("STEPLEDGER_PG_SH");
    script_ =
        script != nullptr ? script : std::string(STEPLEDGER_SOURCE_DIR) + "/deploy/local/pg.sh";
    dir_ = "/tmp/stepledger-e2e-pg-" + std::to_string(getpid());
    port_ = testing::PickFreePort();
  }
  ~PrivatePostgres() { Run("destroy " + dir_); }
  bool Start() { return Run("start " + dir_ + " " + std::to_string(port_) + " --fast"); }
  bool Stop() { return Run("stop " + dir_); }
  std::string url() const {
    return "postgresql://stepledger@127.0.0.1:" + std::to_string(port_) + "/stepledger";
  }

 private:
  bool Run(const std::string& args) {
    return std::system(("bash " + script_ + " " + args).c_str()) == 0;
  }
  std::string script_;
  std::string dir_;
  int port_;
};

TEST(IngestE2ETest, DatabaseOutageGivesUnavailableAndNothingUnackedIsClaimedStored) {
  PrivatePostgres pg;
  ASSERT_TRUE(pg.Start());
  CollectorProcess collector(pg.url());
  ASSERT_TRUE(collector.Start()) << collector.Log();

  std::mt19937 rng(7);
  std::vector<v1::StepEvent> events;
  for (int i = 0; i < 6000; ++i) events.push_back(ValidEvent(i, rng));

  client::StreamOptions options;
  options.batch_size = 100;
  options.max_in_flight = 2;
  options.deadline = absl::Minutes(2);
  client::StepStreamClient stream(client::MakeCollectorChannel(collector.target()), options);
  bool stopped = false;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i == 2000) {
      ASSERT_TRUE(pg.Stop());
      stopped = true;
    }
    if (!stream.Add(events[i])) {
      // The stream ended: the rest are reported unacked by Finish().
    }
  }
  ASSERT_TRUE(stopped);
  client::StreamResult result = stream.Finish();
  EXPECT_TRUE(absl::IsUnavailable(result.status)) << result.status;
  EXPECT_FALSE(result.unacked_events.empty());
  const int64_t acked = result.totals.accepted;
  EXPECT_EQ(acked + static_cast<int64_t>(result.unacked_events.size()),
            static_cast<int64_t>(events.size()));

  ASSERT_TRUE(pg.Start());
  // Every acked event is stored: the collector never acks before COMMIT.
  EXPECT_GE(Count(pg.url(), "SELECT count(*) FROM steps"), acked);

  // Re-send everything until all is acked (the collector reconnects by itself).
  std::vector<v1::StepEvent> pending = events;
  int64_t accepted_after = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!pending.empty() && absl::Now() < deadline) {
    client::SendOptions send;
    send.streams = 2;
    send.stream.batch_size = 500;
    send.stream.deadline = absl::Seconds(30);
    client::StreamResult r = client::SendAll(collector.target(), pending, send);
    accepted_after += r.totals.accepted;
    pending = r.unacked_events;
    if (!pending.empty()) absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_TRUE(pending.empty()) << collector.Log();
  EXPECT_EQ(Count(pg.url(), "SELECT count(*) FROM steps"), static_cast<int64_t>(events.size()));
  EXPECT_EQ(Count(pg.url(), "SELECT count(DISTINCT event_id) FROM steps"),
            static_cast<int64_t>(events.size()));
  EXPECT_EQ(collector.Stop(), 0) << collector.Log();
}

}  // namespace
}  // namespace stepledger
