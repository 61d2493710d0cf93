// OperationRegistry over a shared OperationStore, as two replicas on one database: what one
// runs the other answers (progress, result, error), an operation whose replica stopped
// heartbeating is reported abandoned after the lease, and a final state the store missed is
// saved by the next heartbeat.
#include <string>

#include "gtest/gtest.h"
#include "server/transport/operation_registry.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_operation_store.h"

namespace stepledger::transport {
namespace {

constexpr absl::Time kStart = absl::FromUnixSeconds(1'767'225'600);

OperationRegistry::Options Replica(const std::string& owner) {
  return {.max_operations = 8,
          .keep_finished = absl::Hours(1),
          .lease = absl::Seconds(30),
          .owner = owner};
}

TEST(OperationRegistryStoreTest, AnotherReplicaSeesTheProgressAndTheResult) {
  testing::FakeClock clock(kStart);
  testing::MemoryOperationStore store(clock);
  OperationRegistry a(clock, Replica("a:1"), &store);
  OperationRegistry b(clock, Replica("b:1"), &store);
  const std::string id = a.Start("rollup", 3)->id();
  EXPECT_EQ(b.Lookup(id).status().code(), absl::StatusCode::kNotFound) << "not published yet";
  ASSERT_TRUE(a.Publish(id).ok());

  a.Progress(id, 2, "2026-01-02");
  absl::StatusOr<v1::Operation> seen = b.Lookup(id);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->kind(), "rollup");
  EXPECT_FALSE(seen->done());
  EXPECT_EQ(seen->units_done(), 2);
  EXPECT_EQ(seen->units_total(), 3);
  EXPECT_EQ(seen->last_unit(), "2026-01-02");
  EXPECT_EQ(seen->started_at().seconds(), absl::ToUnixSeconds(kStart));

  clock.Advance(absl::Minutes(1));
  v1::Operation result;
  result.mutable_roll_up()->add_days()->set_day("2026-01-01");
  result.mutable_roll_up()->mutable_days(0)->set_source_rows(9);
  a.Finish(id, absl::OkStatus(), result);
  seen = b.Lookup(id);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_TRUE(seen->done());
  EXPECT_EQ(seen->error_code(), 0);
  ASSERT_EQ(seen->roll_up().days_size(), 1);
  EXPECT_EQ(seen->roll_up().days(0).source_rows(), 9);
  EXPECT_EQ(seen->finished_at().seconds(), absl::ToUnixSeconds(kStart + absl::Minutes(1)));

  // B's own memory does not hold it: Get stays local, without I/O.
  EXPECT_EQ(b.Get(id).status().code(), absl::StatusCode::kNotFound);
}

TEST(OperationRegistryStoreTest, AFailureIsSeenWithItsCodeAndMessage) {
  testing::FakeClock clock(kStart);
  testing::MemoryOperationStore store(clock);
  OperationRegistry a(clock, Replica("a:1"), &store);
  OperationRegistry b(clock, Replica("b:1"), &store);
  const std::string id = a.Start("whatif", 31)->id();
  ASSERT_TRUE(a.Publish(id).ok());
  a.Finish(id, absl::AbortedError("another rollup holds the lock"), {});
  absl::StatusOr<v1::Operation> seen = b.Lookup(id);
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(seen->done());
  EXPECT_EQ(seen->error_code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(seen->error_message(), "another rollup holds the lock");
  EXPECT_FALSE(seen->has_what_if());
}

TEST(OperationRegistryStoreTest, ARunningOperationWhoseReplicaStoppedIsAbandonedAfterTheLease) {
  testing::FakeClock clock(kStart);
  testing::MemoryOperationStore store(clock);
  OperationRegistry a(clock, Replica("a:1"), &store);
  OperationRegistry b(clock, Replica("b:1"), &store);
  const std::string id = a.Start("rollup", 10)->id();
  ASSERT_TRUE(a.Publish(id).ok());
  a.Progress(id, 4, "2026-01-04");

  // A heartbeats: still running however long the work takes.
  for (int i = 0; i < 20; ++i) {
    clock.Advance(absl::Seconds(5));
    ASSERT_TRUE(a.Heartbeat().ok());
  }
  absl::StatusOr<v1::Operation> seen = b.Lookup(id);
  ASSERT_TRUE(seen.ok());
  EXPECT_FALSE(seen->done());

  // A dies (no more heartbeats): running up to the lease, abandoned past it.
  clock.Advance(absl::Seconds(30));
  EXPECT_FALSE(b.Lookup(id)->done());
  clock.Advance(absl::Seconds(1));
  seen = b.Lookup(id);
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(seen->done());
  EXPECT_EQ(seen->error_code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_NE(seen->error_message().find("abandoned: collector a:1"), std::string::npos)
      << seen->error_message();
  EXPECT_NE(seen->error_message().find("start it again"), std::string::npos);
  EXPECT_EQ(seen->units_done(), 4);

  // B's upkeep deletes it an hour and a lease after its last heartbeat.
  clock.Advance(absl::Hours(1));
  ASSERT_TRUE(b.Heartbeat().ok());
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(b.Lookup(id).status().code(), absl::StatusCode::kNotFound);
}

TEST(OperationRegistryStoreTest, AFinalStateTheStoreMissedIsSavedByTheNextHeartbeat) {
  testing::FakeClock clock(kStart);
  testing::MemoryOperationStore store(clock);
  OperationRegistry a(clock, Replica("a:1"), &store);
  OperationRegistry b(clock, Replica("b:1"), &store);
  const std::string id = a.Start("reprice", 0)->id();
  ASSERT_TRUE(a.Publish(id).ok());
  store.fail_writes = true;
  v1::Operation result;
  result.mutable_reprice()->set_examined(7);
  a.Finish(id, absl::OkStatus(), result);
  EXPECT_FALSE(a.Heartbeat().ok());
  store.fail_writes = false;
  EXPECT_FALSE(b.Lookup(id)->done()) << "the store still has it running";

  ASSERT_TRUE(a.Heartbeat().ok());
  absl::StatusOr<v1::Operation> seen = b.Lookup(id);
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(seen->done());
  EXPECT_EQ(seen->reprice().examined(), 7);
}

TEST(OperationRegistryStoreTest, APublishTheStoreRefusesIsAnError) {
  testing::FakeClock clock(kStart);
  testing::MemoryOperationStore store(clock);
  OperationRegistry a(clock, Replica("a:1"), &store);
  const std::string id = a.Start("rollup", 1)->id();
  store.fail_writes = true;
  EXPECT_EQ(a.Publish(id).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace stepledger::transport
