// Long Admin operations across replicas: two collectors on one database; an operation started
// on one is polled on the other (admin_operations, migration 0019), through its progress to
// its result, and an unknown id is NOT_FOUND on both.
#include <string>
#include <vector>

#include "client/lib/admin_client.h"
#include "client/lib/step_stream_client.h"
#include "gtest/gtest.h"
#include "tests/fakes/collector_process.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using testing::CollectorProcess;
using testing::TestDatabase;

TEST(OperationsE2eTest, AnOperationStartedOnOneReplicaIsPolledOnAnother) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess a(db.url(), {"--rollup-schedule=false"});
  CollectorProcess b(db.url(), {"--rollup-schedule=false"});
  ASSERT_TRUE(a.Start()) << a.Log();
  ASSERT_TRUE(b.Start()) << b.Log();
  client::AdminClient on_a(client::MakeCollectorChannel(a.target()));
  client::AdminClient on_b(client::MakeCollectorChannel(b.target()));

  // 120 days: long enough that B sees it before it is done on most machines.
  v1::RollUpRequest request;
  request.mutable_range()->set_from("2026-08-01");
  request.mutable_range()->set_to("2026-11-28");
  absl::StatusOr<v1::Operation> started = on_a.StartRollUp(request);
  ASSERT_TRUE(started.ok()) << started.status();
  // Recorded before the start answered: B knows it at once.
  absl::StatusOr<v1::Operation> first = on_b.GetOperation(started->id());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->kind(), "rollup");
  EXPECT_EQ(first->units_total(), 120);

  std::vector<int64_t> progress;
  absl::StatusOr<v1::Operation> done = on_b.Wait(
      *first, [&](const v1::Operation& op) { progress.push_back(op.units_done()); },
      absl::Milliseconds(20));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->units_done(), 120);
  EXPECT_EQ(done->last_unit(), "2026-11-28");
  ASSERT_EQ(done->roll_up().days_size(), 120);
  EXPECT_EQ(done->roll_up().days(119).day(), "2026-11-28");
  EXPECT_TRUE(done->has_finished_at());
  for (size_t i = 1; i < progress.size(); ++i) EXPECT_LE(progress[i - 1], progress[i]);
  EXPECT_EQ(db.Count("SELECT count(*) FROM admin_operations WHERE state = 'succeeded'"), 1);

  EXPECT_EQ(on_b.GetOperation("00000000000000ff").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(on_a.GetOperation("00000000000000ff").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace stepledger
