// RunQuery (the GetRun use case) over an in-memory repository.
#include "server/domain/runs/run_query.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/unit/runs_transport/run_test_util.h"

namespace stepledger::domain::runs {
namespace {

using testing::FakeRunRepository;
using testing::kMicroUsd;
using testing::kTestRun;

TEST(RunQueryTest, MalformedRunIdsAreInvalidArgumentNamingTheFieldWithoutReadingTheStore) {
  FakeRunRepository repo;
  RunQuery query(repo);
  for (const std::string& id : {std::string(), std::string(129, 'r'), std::string("run\n1")}) {
    absl::StatusOr<RunView> view = query.GetRun(id);
    EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(view.status().message().substr(0, 8), "run_id: ") << view.status();
  }
  EXPECT_EQ(repo.calls(), 0);
  EXPECT_TRUE(ValidateRunId(std::string(128, 'r')).ok());
}

TEST(RunQueryTest, UnknownRunIsNotFoundAndStoreErrorsPassThrough) {
  FakeRunRepository repo;
  RunQuery query(repo);
  EXPECT_EQ(query.GetRun("nope").status().code(), absl::StatusCode::kNotFound);
  repo.Put("empty", {});  // A repository breaking its contract still gives NotFound.
  EXPECT_EQ(query.GetRun("empty").status().code(), absl::StatusCode::kNotFound);
  repo.FailWith(absl::UnavailableError("database unreachable"));
  EXPECT_EQ(query.GetRun("nope").status().code(), absl::StatusCode::kUnavailable);
}

TEST(RunQueryTest, CountsPendingDriftRetriesAndStartTimesOverEveryStep) {
  FakeRunRepository repo;
  repo.Put(kTestRun, testing::MixedRun());
  RunQuery query(repo);
  absl::StatusOr<RunView> view = query.GetRun(kTestRun);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->tree.totals.total_nano_usd, 146'000 * kMicroUsd);
  EXPECT_EQ(view->tree.totals.steps, 8);
  EXPECT_EQ(view->pending_steps, 1);  // o, in an orphan subtree
  EXPECT_EQ(view->drift_steps, 1);    // c
  EXPECT_EQ(view->retry_steps, 1);    // a2
  EXPECT_EQ(view->first_started_at, absl::FromUnixSeconds(1'767'225'600));
  EXPECT_EQ(view->last_started_at, absl::FromUnixSeconds(1'767'225'607));  // x (invalid)
}

}  // namespace
}  // namespace stepledger::domain::runs
