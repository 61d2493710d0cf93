// StepStreamClient and SendAll against an in-process fake collector on a real gRPC server.
#include "client/lib/step_stream_client.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "client/lib/send_all.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/fake_collector.h"
#include "tests/unit/client/test_events.h"

namespace stepledger::client {
namespace {

using ::stepledger::testing::EventIds;
using ::stepledger::testing::FakeCollectorOptions;
using ::stepledger::testing::FakeCollectorServer;
using ::stepledger::testing::MakeEvents;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

StreamResult SendOverOneStream(const std::string& target, std::vector<v1::StepEvent> events,
                               StreamOptions options) {
  StepStreamClient client(MakeCollectorChannel(target), options);
  for (v1::StepEvent& event : events) client.Add(std::move(event));
  return client.Finish();
}

TEST(StepStreamClientTest, OutOfOrderAcksAreMatchedAndTotalsAddUp) {
  FakeCollectorServer server(FakeCollectorOptions{.ack_window = 3});
  std::vector<v1::StepEvent> events = MakeEvents(95);
  events.push_back(stepledger::testing::MakeEvent("bad-1"));
  events.push_back(events.front());  // A re-send: counted a duplicate.

  StreamResult result =
      SendOverOneStream(server.target(), events, {.batch_size = 10, .max_in_flight = 4});

  ASSERT_TRUE(result.status.ok()) << result.status;
  EXPECT_TRUE(result.all_acked());
  EXPECT_EQ(result.totals.accepted, 95);
  EXPECT_EQ(result.totals.duplicates, 1);
  EXPECT_EQ(result.totals.rejected, 1);
  ASSERT_EQ(result.rejections.size(), 1u);
  EXPECT_EQ(result.rejections[0].event_id(), "bad-1");
  EXPECT_EQ(result.rejections[0].field(), "tags.team");
  EXPECT_THAT(result.acked_sequences, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  EXPECT_TRUE(result.unacked_events.empty());
}

TEST(StepStreamClientTest, NeverMoreBatchesInFlightThanTheWindow) {
  // The fake holds acks until it has `ack_window` batches, so a client respecting a window of
  // 3 fills it exactly; one that overran it would show 4.
  FakeCollectorServer server(FakeCollectorOptions{.ack_window = 3});
  StreamResult result =
      SendOverOneStream(server.target(), MakeEvents(100), {.batch_size = 5, .max_in_flight = 3});
  ASSERT_TRUE(result.all_acked()) << result.status;
  EXPECT_EQ(result.totals.accepted, 100);
  EXPECT_EQ(server.service().max_outstanding(), 3);
}

TEST(StepStreamClientTest, UnavailableReportsTheUnackedBatchesForResend) {
  // Acks batches 2,1 then 4,3, then fails the stream as the collector does when PostgreSQL is
  // down.
  FakeCollectorServer server(FakeCollectorOptions{.ack_window = 2, .fail_after_acks = 4});
  std::vector<v1::StepEvent> events = MakeEvents(100);

  StreamResult result =
      SendOverOneStream(server.target(), events, {.batch_size = 10, .max_in_flight = 4});

  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable) << result.status;
  EXPECT_FALSE(result.all_acked());
  EXPECT_THAT(result.acked_sequences, ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(result.totals.accepted, 40);
  // Exactly the events of the batches without an ack, in their original order.
  std::vector<std::string> expected = EventIds(events);
  expected.erase(expected.begin(), expected.begin() + 40);
  EXPECT_THAT(EventIds(result.unacked_events), ElementsAreArray(expected));
}

TEST(StepStreamClientTest, ResendAfterFailureCompletesWithDuplicatesForAckedEvents) {
  FakeCollectorServer server(FakeCollectorOptions{.ack_window = 1});
  std::vector<v1::StepEvent> events = MakeEvents(30);
  StreamResult first = SendOverOneStream(server.target(), events, {.batch_size = 10});
  ASSERT_TRUE(first.all_acked());
  StreamResult again = SendOverOneStream(server.target(), events, {.batch_size = 10});
  ASSERT_TRUE(again.all_acked());
  EXPECT_EQ(again.totals.accepted, 0);
  EXPECT_EQ(again.totals.duplicates, 30);
}

TEST(StepStreamClientTest, AckForUnknownSequenceFailsTheStreamAndClaimsNothing) {
  FakeCollectorServer server(FakeCollectorOptions{.ack_window = 1, .bogus_ack_sequence = 999});
  StreamResult result = SendOverOneStream(server.target(), MakeEvents(20), {.batch_size = 10});
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInternal) << result.status;
  EXPECT_EQ(result.totals.accepted, 0);
  EXPECT_TRUE(result.acked_sequences.empty());
  EXPECT_EQ(result.unacked_events.size(), 20u);
}

TEST(StepStreamClientTest, NoCollectorListeningIsUnavailableWithEverythingUnacked) {
  // Take a port the OS gave out and close it again, so nothing listens there.
  std::string target;
  { target = FakeCollectorServer().target(); }
  StreamResult result = SendOverOneStream(target, MakeEvents(25), {.batch_size = 10});
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable) << result.status;
  EXPECT_EQ(result.unacked_events.size(), 25u);
}

TEST(StepStreamClientTest, DestroyingWithoutFinishDoesNotHang) {
  FakeCollectorServer server;
  StepStreamClient client(MakeCollectorChannel(server.target()), {.batch_size = 2});
  for (v1::StepEvent& event : MakeEvents(5)) client.Add(std::move(event));
}

// 40 runs of 25 steps each: event "run<r>-step<k>" is step k of run r.
std::vector<v1::StepEvent> FortyRuns() {
  std::vector<v1::StepEvent> events;
  for (int k = 0; k < 25; ++k) {
    for (int r = 0; r < 40; ++r) {
      v1::StepEvent event = stepledger::testing::MakeEvent(absl::StrCat("run", r, "-step", k));
      event.mutable_tags()->set_parent_run_id(absl::StrCat("run-", r));
      events.push_back(std::move(event));
    }
  }
  return events;
}

TEST(SendAllTest, ParallelStreamsUseDisjointSequencesAndAddUp) {
  FakeCollectorServer server(FakeCollectorOptions{.ack_window = 2});
  SendOptions options;
  options.stream.batch_size = 50;
  options.streams = 4;
  StreamResult result = SendAll(server.target(), FortyRuns(), options);
  ASSERT_TRUE(result.all_acked()) << result.status;
  EXPECT_EQ(result.totals.accepted, 1000);
  // Stream s uses sequences s+1, s+5, ...: distinct across streams, one per batch.
  const auto streams = server.service().streams();
  size_t batches = 0;
  for (const auto& ids : streams) batches += (ids.size() + 49) / 50;
  EXPECT_EQ(result.acked_sequences.size(), batches);
  EXPECT_GE(streams.size(), 2u) << "40 runs should spread over more than one stream";
}

TEST(SendAllTest, EachRunTravelsOnOneStreamInOrder) {
  FakeCollectorServer server;
  SendOptions options;
  options.stream.batch_size = 30;
  options.streams = 4;
  ASSERT_TRUE(SendAll(server.target(), FortyRuns(), options).all_acked());
  absl::flat_hash_map<std::string, size_t> stream_of_run;
  absl::flat_hash_map<std::string, int> next_step_of_run;
  size_t total = 0;
  const auto streams = server.service().streams();
  for (size_t s = 0; s < streams.size(); ++s) {
    for (const std::string& id : streams[s]) {
      ++total;
      const std::string run(id.substr(0, id.find('-')));
      auto [it, inserted] = stream_of_run.try_emplace(run, s);
      EXPECT_EQ(it->second, s) << run << " arrived on two streams";
      // Steps of a run arrive in the order they were given.
      EXPECT_EQ(id, absl::StrCat(run, "-step", next_step_of_run[run]++));
    }
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(stream_of_run.size(), 40u);
}

TEST(SendAllTest, InvalidOptionsSendNothing) {
  SendOptions options;
  options.stream.batch_size = 1001;
  StreamResult result = SendAll("127.0.0.1:1", MakeEvents(3), options);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(result.unacked_events.size(), 3u);
}

}  // namespace
}  // namespace stepledger::client
