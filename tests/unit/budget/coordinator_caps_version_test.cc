// BudgetCoordinator's refresh re-reads the caps only when the repository's caps version moved.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

Cap TeamCap(const std::string& id, NanoUsd limit) {
  return testing::MakeCap(id, Scope::kTeam, limit, Period::kMonthly);
}

// Caps kept in memory; the test moves `version` the way the database trigger would.
class VersionedRepository final : public stepledger::testing::MemoryBudgetRepository {
 public:
  absl::StatusOr<std::vector<Cap>> LoadCaps() override {
    ++loads;
    return MemoryBudgetRepository::LoadCaps();
  }
  absl::StatusOr<int64_t> CapsVersion() override { return version; }

  int64_t version = 1;
  int loads = 0;
};

TEST(CoordinatorCapsVersionTest, UnchangedVersionSkipsTheCapsRead) {
  stepledger::testing::FakeClock clock(absl::FromUnixSeconds(1'795'000'000));
  BudgetEngine engine(clock);
  VersionedRepository repo;
  repo.SetCap(TeamCap("a", 1000));
  BudgetCoordinator coordinator(engine, repo, clock, nullptr);
  ASSERT_TRUE(coordinator.Start().ok());
  EXPECT_EQ(repo.loads, 1);
  EXPECT_EQ(engine.ListCaps().size(), 1u);

  for (int i = 0; i < 5; ++i) ASSERT_TRUE(coordinator.Refresh().ok());
  EXPECT_EQ(repo.loads, 1) << "nothing changed: no cap read";

  // Another replica adds a cap and changes one: the version moves, the refresh reads them.
  repo.SetCap(TeamCap("b", 2000));
  repo.SetCap(TeamCap("a", 1500));
  ++repo.version;
  ASSERT_TRUE(coordinator.Refresh().ok());
  EXPECT_EQ(repo.loads, 2);
  ASSERT_EQ(engine.ListCaps().size(), 2u);
  EXPECT_EQ(engine.GetCap("a")->limit_nano_usd, 1500);

  // And a deletion.
  repo.EraseCap("b");
  ++repo.version;
  ASSERT_TRUE(coordinator.Refresh().ok());
  EXPECT_EQ(engine.ListCaps().size(), 1u);
}

TEST(CoordinatorCapsVersionTest, UntrackedVersionReadsEveryTime) {
  stepledger::testing::FakeClock clock(absl::FromUnixSeconds(1'795'000'000));
  BudgetEngine engine(clock);
  VersionedRepository repo;
  repo.version = -1;
  repo.SetCap(TeamCap("a", 1000));
  BudgetCoordinator coordinator(engine, repo, clock, nullptr);
  ASSERT_TRUE(coordinator.Start().ok());
  ASSERT_TRUE(coordinator.Refresh().ok());
  ASSERT_TRUE(coordinator.Refresh().ok());
  EXPECT_EQ(repo.loads, 3);
}

}  // namespace
}  // namespace stepledger::domain::budget
