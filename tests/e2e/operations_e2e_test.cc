// Long Admin operations across replicas: two collectors on one database; an operation started
// on one is polled on the other (admin_operations, migration 0019), through its progress to
// its result, and an unknown id is NOT_FOUND on both.
#include <pqxx/pqxx>
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

// A replica that died mid-operation leaves a running row nobody heartbeats: past the 30 s
// lease (by the database's clock) every replica answers it done, ABORTED, "abandoned".
TEST(OperationsE2eTest, ARunningOperationOfADeadReplicaIsReportedAbandonedAfterTheLease) {
  TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  CollectorProcess b(db.url(), {"--rollup-schedule=false"});
  ASSERT_TRUE(b.Start()) << b.Log();
  {
    pqxx::connection conn(db.url());
    pqxx::work txn(conn);
    txn.exec(
        "INSERT INTO admin_operations (id, kind, state, units_done, units_total, last_unit, "
        "owner, started_at, heartbeat_at) VALUES "
        "('00000000000000aa', 'rollup', 'running', 7, 60, '2026-10-07', 'gone-host:42', "
        "now() - interval '5 minutes', now() - interval '31 seconds'), "
        "('00000000000000bb', 'rollup', 'running', 3, 60, '2026-10-03', 'live-host:43', "
        "now() - interval '5 minutes', now() - interval '2 seconds')");
    txn.commit();
  }
  client::AdminClient on_b(client::MakeCollectorChannel(b.target()));
  absl::StatusOr<v1::Operation> dead = on_b.GetOperation("00000000000000aa");
  ASSERT_TRUE(dead.ok()) << dead.status();
  EXPECT_TRUE(dead->done());
  EXPECT_EQ(dead->error_code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_NE(dead->error_message().find("abandoned: collector gone-host:42"), std::string::npos)
      << dead->error_message();
  EXPECT_EQ(dead->units_done(), 7);
  absl::StatusOr<v1::Operation> live = on_b.GetOperation("00000000000000bb");
  ASSERT_TRUE(live.ok()) << live.status();
  EXPECT_FALSE(live->done());
  EXPECT_EQ(live->units_done(), 3);
}

}  // namespace
}  // namespace stepledger
