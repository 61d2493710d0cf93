// OperationRegistry: the memory bound (running operations are never dropped, finished ones
// make room oldest first), the expiry of finished operations, and what Get answers.
#include "server/transport/operation_registry.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace stepledger::transport {
namespace {

constexpr absl::Time kStart = absl::FromUnixSeconds(1'767'225'600);

TEST(OperationRegistryTest, ProgressAndResultAreWhatGetAnswers) {
  testing::FakeClock clock(kStart);
  OperationRegistry registry(clock);
  absl::StatusOr<v1::Operation> op = registry.Start("rollup", 3);
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->id().size(), 16u);
  registry.Progress(op->id(), 1, "2026-01-01");
  absl::StatusOr<v1::Operation> got = registry.Get(op->id());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->units_done(), 1);
  EXPECT_EQ(got->units_total(), 3);
  EXPECT_FALSE(got->done());

  clock.Advance(absl::Minutes(2));
  v1::Operation result;
  result.mutable_roll_up()->add_days()->set_day("2026-01-01");
  registry.Finish(op->id(), absl::OkStatus(), result);
  got = registry.Get(op->id());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->done());
  EXPECT_EQ(got->error_code(), 0);
  EXPECT_EQ(got->roll_up().days_size(), 1);
  EXPECT_EQ(got->finished_at().seconds() - got->started_at().seconds(), 120);
}

TEST(OperationRegistryTest, AFailedOperationKeepsItsCodeAndMessageAndNoResult) {
  testing::FakeClock clock(kStart);
  OperationRegistry registry(clock);
  absl::StatusOr<v1::Operation> op = registry.Start("reprice", 0);
  ASSERT_TRUE(op.ok());
  v1::Operation result;
  result.mutable_reprice()->set_examined(5);
  registry.Finish(op->id(), absl::AbortedError("concurrent change"), result);
  absl::StatusOr<v1::Operation> got = registry.Get(op->id());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->error_code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(got->error_message(), "concurrent change");
  EXPECT_FALSE(got->has_reprice());
}

TEST(OperationRegistryTest, FinishedOperationsExpireRunningOnesDoNot) {
  testing::FakeClock clock(kStart);
  OperationRegistry registry(clock, {.max_operations = 8, .keep_finished = absl::Hours(1)});
  const std::string running = registry.Start("rollup", 400)->id();
  const std::string finished = registry.Start("reprice", 0)->id();
  registry.Finish(finished, absl::OkStatus(), {});
  clock.Advance(absl::Hours(1) + absl::Seconds(1));
  absl::StatusOr<v1::Operation> gone = registry.Get(finished);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find(finished), std::string::npos);
  EXPECT_TRUE(registry.Get(running).ok()) << "a running operation never expires";
}

TEST(OperationRegistryTest, WhenFullTheOldestFinishedMakesRoomAndAllRunningRefuses) {
  testing::FakeClock clock(kStart);
  OperationRegistry registry(clock, {.max_operations = 3, .keep_finished = absl::Hours(1)});
  const std::string a = registry.Start("rollup", 1)->id();
  const std::string b = registry.Start("rollup", 1)->id();
  const std::string c = registry.Start("rollup", 1)->id();
  registry.Finish(b, absl::OkStatus(), {});
  clock.Advance(absl::Seconds(1));
  registry.Finish(a, absl::OkStatus(), {});
  EXPECT_EQ(registry.Start("x", 0).status().code(), absl::StatusCode::kOk);
  EXPECT_FALSE(registry.Get(b).ok()) << "b finished first, so it made room";
  EXPECT_TRUE(registry.Get(a).ok());

  // a, c and the new one: a is the only finished one; after it, all three slots run.
  ASSERT_TRUE(registry.Start("y", 0).ok());
  EXPECT_FALSE(registry.Get(a).ok());
  absl::StatusOr<v1::Operation> refused = registry.Start("z", 0);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(registry.Get(c).ok());
}

TEST(OperationRegistryTest, IdsAreDistinct) {
  testing::FakeClock clock(kStart);
  OperationRegistry registry(clock, {.max_operations = 1000, .keep_finished = absl::Hours(1)});
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(registry.Start("rollup", 1)->id());
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace stepledger::transport
