// BudgetCoordinator's refresh reads only the acknowledgements stored since its last read, and
// reads them before the caps, so that none is skipped for naming a cap not synced yet.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using testing::kUsd;
using testing::MakeCap;

// Acknowledgements in the order they were stored; a read's mark is how many there were.
class MarkedAcknowledgementsRepository final : public stepledger::testing::MemoryBudgetRepository {
 public:
  absl::StatusOr<int64_t> CapsVersion() override { return caps_version; }
  absl::StatusOr<AcknowledgementsRead> LoadAcknowledgements(
      const std::string* since_mark) override {
    // What another replica commits just before this read's snapshot.
    if (during_read) std::exchange(during_read, nullptr)();
    marks_asked.push_back(since_mark == nullptr ? "" : *since_mark);
    const size_t from = since_mark == nullptr ? 0 : std::stoul(*since_mark);
    AcknowledgementsRead read;
    read.acks.assign(acks.begin() + static_cast<ptrdiff_t>(from), acks.end());
    read.next_mark = std::to_string(acks.size());
    return read;
  }

  // Another replica stores a cap and acknowledges it at once.
  void CapAndAcknowledgementFromAnotherReplica(const std::string& cap_id, absl::Time now) {
    Cap cap = MakeCap(cap_id, Scope::kTeam, 100 * kUsd, Period::kMonthly);
    cap.action = Action::kRequireAck;
    SetCap(cap);
    ++caps_version;
    acks.push_back({.id = "ack-" + cap_id,
                    .cap_id = cap_id,
                    .principal = "lead",
                    .reason = "launch",
                    .extra_headroom = 5 * kUsd,
                    .created_at = now,
                    .expires_at = now + absl::Hours(24)});
  }

  int64_t caps_version = 1;
  std::vector<Acknowledgement> acks;
  std::function<void()> during_read;
  std::vector<std::string> marks_asked;  // "": a full read
};

class CoordinatorAcknowledgementsTest : public ::testing::Test {
 protected:
  void Refresh() {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(coordinator_.Refresh().ok());
  }

  stepledger::testing::FakeClock clock_{testing::Utc(2026, 11, 28, 12)};
  BudgetEngine engine_{clock_};
  MarkedAcknowledgementsRepository repo_;
  BudgetCoordinator coordinator_{engine_, repo_, clock_, nullptr};
};

TEST_F(CoordinatorAcknowledgementsTest, OnlyNewAcknowledgementsAreReadAndNoneTwice) {
  repo_.CapAndAcknowledgementFromAnotherReplica("team-a", clock_.Now());
  ASSERT_TRUE(coordinator_.Start().ok());
  EXPECT_EQ(engine_.ListAcknowledgements("team-a").size(), 1u);

  Refresh();
  repo_.CapAndAcknowledgementFromAnotherReplica("team-b", clock_.Now());
  Refresh();
  EXPECT_EQ(repo_.marks_asked, (std::vector<std::string>{"", "1", "1"}))
      << "a full read at start, then only what came after the last read";
  EXPECT_EQ(engine_.ListAcknowledgements("team-a").size(), 1u) << "not loaded twice";
  EXPECT_EQ(engine_.ListAcknowledgements("team-b").size(), 1u);
}

TEST_F(CoordinatorAcknowledgementsTest, AnAcknowledgementOfACapStoredDuringTheRefreshIsKept) {
  ASSERT_TRUE(coordinator_.Start().ok());
  // The cap and its acknowledgement commit after this refresh began but before it reads the
  // acknowledgements. Had the caps been read first, the acknowledgement would name a cap the
  // engine does not know yet, be skipped, and never be read again.
  repo_.during_read = [&] {
    repo_.CapAndAcknowledgementFromAnotherReplica("team-c", clock_.Now());
  };
  Refresh();
  Refresh();
  EXPECT_EQ(engine_.ListAcknowledgements("team-c").size(), 1u);
}

}  // namespace
}  // namespace stepledger::domain::budget
