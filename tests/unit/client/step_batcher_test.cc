#include "client/lib/step_batcher.h"

#include "gtest/gtest.h"
#include "tests/unit/client/test_events.h"

namespace stepledger::client {
namespace {

using ::stepledger::testing::MakeEvents;

TEST(StepBatcherTest, FillsBatchesWithIncreasingSequencesAndFlushesTheRest) {
  StepBatcher batcher(3);
  std::vector<v1::StepBatch> batches;
  for (v1::StepEvent& event : MakeEvents(8)) {
    if (auto batch = batcher.Add(std::move(event))) batches.push_back(*batch);
  }
  EXPECT_EQ(batcher.pending(), 2);
  if (auto batch = batcher.Flush()) batches.push_back(*batch);
  EXPECT_FALSE(batcher.Flush().has_value()) << "nothing left to flush";

  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].sequence(), 1u);
  EXPECT_EQ(batches[1].sequence(), 2u);
  EXPECT_EQ(batches[2].sequence(), 3u);
  EXPECT_EQ(batches[0].events_size(), 3);
  EXPECT_EQ(batches[2].events_size(), 2);
  EXPECT_EQ(batches[0].events(0).event_id(), "evt-0");
  EXPECT_EQ(batches[2].events(1).event_id(), "evt-7");
}

TEST(StepBatcherTest, StrideGivesDisjointSequencesPerStream) {
  StepBatcher second_of_three(1, /*first_sequence=*/2, /*stride=*/3);
  std::vector<uint64_t> sequences;
  for (v1::StepEvent& event : MakeEvents(3)) {
    sequences.push_back(second_of_three.Add(std::move(event))->sequence());
  }
  EXPECT_EQ(sequences, (std::vector<uint64_t>{2, 5, 8}));
}

}  // namespace
}  // namespace stepledger::client
