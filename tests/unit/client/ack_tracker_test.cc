#include "client/lib/ack_tracker.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/test_events.h"

namespace stepledger::client {
namespace {

using ::stepledger::testing::EventIds;
using ::stepledger::testing::MakeEvent;
using ::testing::ElementsAre;

std::shared_ptr<const v1::StepBatch> Batch(uint64_t sequence, std::vector<std::string> ids) {
  auto batch = std::make_shared<v1::StepBatch>();
  batch->set_sequence(sequence);
  for (const std::string& id : ids) *batch->add_events() = MakeEvent(id);
  return batch;
}

v1::BatchAck Ack(uint64_t sequence, int64_t accepted, int64_t duplicates) {
  v1::BatchAck ack;
  ack.set_sequence(sequence);
  ack.set_accepted(accepted);
  ack.set_duplicates(duplicates);
  return ack;
}

TEST(AckTrackerTest, MatchesOutOfOrderAcksAndReportsOnlyUnackedEvents) {
  AckTracker tracker;
  tracker.OnSent(Batch(1, {"a", "b"}));
  tracker.OnSent(Batch(2, {"c"}));
  tracker.OnSent(Batch(3, {"d", "e"}));
  v1::StepBatch never;
  never.set_sequence(4);
  *never.add_events() = MakeEvent("f");
  tracker.OnNeverSent(never);
  EXPECT_EQ(tracker.in_flight(), 3);

  v1::BatchAck third = Ack(3, 1, 0);
  v1::Rejection* rejection = third.add_rejected();
  rejection->set_event_id("e");
  rejection->set_field("tags.tenant");
  rejection->set_reason("required in production");
  ASSERT_TRUE(tracker.OnAck(third).ok());
  ASSERT_TRUE(tracker.OnAck(Ack(1, 1, 1)).ok());
  EXPECT_EQ(tracker.in_flight(), 1);

  StreamResult result = tracker.TakeResult(absl::UnavailableError("database unreachable"));
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(result.totals.accepted, 2);
  EXPECT_EQ(result.totals.duplicates, 1);
  EXPECT_EQ(result.totals.rejected, 1);
  ASSERT_EQ(result.rejections.size(), 1u);
  EXPECT_EQ(result.rejections[0].field(), "tags.tenant");
  EXPECT_THAT(result.acked_sequences, ElementsAre(1, 3));
  EXPECT_THAT(EventIds(result.unacked_events), ElementsAre("c", "f"));
}

TEST(AckTrackerTest, AckForSequenceNotInFlightIsAnErrorAndCountsNothing) {
  AckTracker tracker;
  tracker.OnSent(Batch(1, {"a"}));
  ASSERT_TRUE(tracker.OnAck(Ack(1, 1, 0)).ok());
  EXPECT_EQ(tracker.OnAck(Ack(1, 1, 0)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tracker.OnAck(Ack(9, 5, 0)).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tracker.TakeResult(absl::OkStatus()).totals.accepted, 1);
}

TEST(AckTrackerTest, CleanEndWithUnackedBatchIsNotOk) {
  AckTracker tracker;
  tracker.OnSent(Batch(1, {"a"}));
  StreamResult result = tracker.TakeResult(absl::OkStatus());
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInternal);
  EXPECT_FALSE(result.all_acked());
  EXPECT_THAT(EventIds(result.unacked_events), ElementsAre("a"));
}

}  // namespace
}  // namespace stepledger::client
