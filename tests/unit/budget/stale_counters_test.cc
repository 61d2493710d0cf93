// Checks from stale counters (issue 22 item 3): when the counters behind a check were last read
// from storage longer ago than the engine's stale limit (or never), the answer says so and each
// cap's stale policy decides: a require_ack cap fails closed by default, an alert cap ALERTs, and
// a cap set to "answer" keeps deciding from memory. Time comes from a FakeClock.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/domain/budget/engine.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using testing::kUsd;
using testing::MakeCap;
using testing::ProdTags;
using testing::Req;
using testing::ReserveReq;

constexpr absl::Duration kStaleAfter = absl::Seconds(5);

const CapStatus& StatusOf(const CheckResult& r, const std::string& cap_id) {
  for (const CapStatus& s : r.caps) {
    if (s.cap->id == cap_id) return s;
  }
  ADD_FAILURE() << "no status for cap " << cap_id;
  static const CapStatus kNone;
  return kNone;
}

class StaleCountersTest : public ::testing::Test {
 protected:
  StaleCountersTest() {
    // The measured case: a $1 require_ack team cap, and an alert-only feature cap.
    Put(MakeCap("team", Scope::kTeam, 1 * kUsd));
    Put(MakeCap("feature", Scope::kFeature, 1 * kUsd));
  }

  void Put(Cap cap) {
    absl::StatusOr<Cap> stored = engine_.UpsertCap(std::move(cap));
    ASSERT_TRUE(stored.ok()) << stored.status();
  }

  CheckResult Check(const CheckRequest& request) {
    absl::StatusOr<CheckResult> r = engine_.Check(request);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or(CheckResult{});
  }

  stepledger::testing::FakeClock clock_{testing::Utc(2026, 12, 6, 1)};
  BudgetEngine engine_{clock_, {.instance_id = "t", .stale_after = kStaleAfter}};
};

TEST_F(StaleCountersTest, TierDefaultsMakeHardCapsFailClosedAndAlertCapsAlert) {
  EXPECT_EQ(DefaultStalePolicy(Action::kRequireAck), StalePolicy::kRequireAck);
  EXPECT_EQ(DefaultStalePolicy(Action::kAlert), StalePolicy::kAlert);
  EXPECT_EQ(ApplyCapDefaults(MakeCap("t", Scope::kTeam, kUsd)).stale_policy,
            StalePolicy::kRequireAck);
  EXPECT_EQ(ApplyCapDefaults(MakeCap("f", Scope::kFeature, kUsd)).stale_policy,
            StalePolicy::kAlert);
  Cap answer = MakeCap("t", Scope::kTeam, kUsd);
  answer.stale_policy = StalePolicy::kAnswer;
  EXPECT_EQ(ApplyCapDefaults(answer).stale_policy, StalePolicy::kAnswer);
}

TEST_F(StaleCountersTest, RequireAckOnStaleCountersIsRefusedForAnAlertCap) {
  Cap cap = MakeCap("f", Scope::kFeature, kUsd);
  cap.stale_policy = StalePolicy::kRequireAck;
  const absl::Status s = ValidateCap(ApplyCapDefaults(cap));
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message().rfind("stale_policy:", 0), 0u) << s;
  EXPECT_FALSE(engine_.UpsertCap(cap).ok());
}

TEST_F(StaleCountersTest, StaleDecisionRaisesToThePolicyAndNeverLowers) {
  for (Decision d : {Decision::kAllow, Decision::kAlert, Decision::kRequireAck}) {
    EXPECT_EQ(StaleDecision(StalePolicy::kAnswer, d), d);
    EXPECT_EQ(StaleDecision(StalePolicy::kRequireAck, d), Decision::kRequireAck);
    EXPECT_EQ(StaleDecision(StalePolicy::kUnspecified, d), Decision::kRequireAck);
  }
  EXPECT_EQ(StaleDecision(StalePolicy::kAlert, Decision::kAllow), Decision::kAlert);
  EXPECT_EQ(StaleDecision(StalePolicy::kAlert, Decision::kRequireAck), Decision::kRequireAck);
}

TEST_F(StaleCountersTest, CountersNeverReadAreStaleAndTheHardCapFailsClosed) {
  const CheckResult r = Check(Req(1));
  EXPECT_TRUE(r.stale);
  EXPECT_FALSE(r.counters_as_of.has_value());
  EXPECT_EQ(r.decision, Decision::kRequireAck);
  EXPECT_EQ(r.deciding_cap_id, "team");
  EXPECT_TRUE(StatusOf(r, "team").stale_policy_applied);
}

TEST_F(StaleCountersTest, WithinTheLimitTheFiguresDecideAndTheAgeIsReported) {
  const absl::Time read_at = clock_.Now();
  engine_.MarkCountersCurrent(read_at);
  clock_.Advance(kStaleAfter);  // exactly at the limit: not yet stale
  const CheckResult r = Check(Req(1));
  EXPECT_FALSE(r.stale);
  ASSERT_TRUE(r.counters_as_of.has_value());
  EXPECT_EQ(*r.counters_as_of, read_at);
  EXPECT_EQ(r.counters_age, kStaleAfter);
  EXPECT_EQ(r.decision, Decision::kAllow);
  for (const CapStatus& s : r.caps) EXPECT_FALSE(s.stale_policy_applied) << s.cap->id;
}

TEST_F(StaleCountersTest, PastTheLimitEachCapAnswersByItsPolicy) {
  Cap tenant = MakeCap("tenant", Scope::kTenant, 1 * kUsd);
  tenant.stale_policy = StalePolicy::kAnswer;
  Put(tenant);
  engine_.MarkCountersCurrent(clock_.Now());
  clock_.Advance(kStaleAfter + absl::Milliseconds(1));
  const CheckResult r = Check(Req(1));
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(r.counters_age, kStaleAfter + absl::Milliseconds(1));
  EXPECT_EQ(r.decision, Decision::kRequireAck);
  EXPECT_EQ(r.deciding_cap_id, "team");
  EXPECT_EQ(StatusOf(r, "team").decision, Decision::kRequireAck);
  EXPECT_TRUE(StatusOf(r, "team").stale_policy_applied);
  EXPECT_EQ(StatusOf(r, "feature").decision, Decision::kAlert);
  EXPECT_TRUE(StatusOf(r, "feature").stale_policy_applied);
  // "answer": the figures still decide (nothing spent: ALLOW), flagged only by r.stale.
  EXPECT_EQ(StatusOf(r, "tenant").decision, Decision::kAllow);
  EXPECT_FALSE(StatusOf(r, "tenant").stale_policy_applied);
  // The figures are still reported as the engine has them.
  EXPECT_EQ(StatusOf(r, "team").remaining, 1 * kUsd);
}

TEST_F(StaleCountersTest, AHardCapSetToAnswerKeepsDecidingFromMemory) {
  Cap team = MakeCap("team", Scope::kTeam, 1 * kUsd);
  team.stale_policy = StalePolicy::kAnswer;
  Put(team);
  Cap feature = MakeCap("feature", Scope::kFeature, 1 * kUsd);
  feature.stale_policy = StalePolicy::kAnswer;
  Put(feature);
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(Check(Req(1)).decision, Decision::kAllow);
  // Past the limit from the figures: the cap's action, as always.
  EXPECT_EQ(Check(Req(2 * kUsd)).decision, Decision::kRequireAck);
}

TEST_F(StaleCountersTest, AStaleReservingCheckThatFailsClosedHoldsNothing) {
  engine_.MarkCountersCurrent(clock_.Now());
  clock_.Advance(absl::Seconds(13));
  const CheckResult r = Check(ReserveReq(1, "step-1"));
  EXPECT_EQ(r.decision, Decision::kRequireAck);
  EXPECT_TRUE(r.reservation_id.empty());
  EXPECT_EQ(engine_.Stats().open_reservations, 0u);
}

TEST_F(StaleCountersTest, AFreshReadEndsStalenessAndAnOlderOneIsIgnored) {
  const absl::Time first = clock_.Now();
  engine_.MarkCountersCurrent(first);
  clock_.Advance(absl::Seconds(30));
  ASSERT_TRUE(Check(Req(1)).stale);
  engine_.MarkCountersCurrent(clock_.Now());
  engine_.MarkCountersCurrent(first);  // a slow read finishing late must not age the counters
  EXPECT_EQ(engine_.CountersAsOf(), clock_.Now());
  const CheckResult r = Check(Req(1));
  EXPECT_FALSE(r.stale);
  EXPECT_EQ(r.decision, Decision::kAllow);
}

TEST(StaleCountersDefaultTest, AnEngineWithoutAStaleLimitIsNeverStale) {
  stepledger::testing::FakeClock clock(testing::Utc(2026, 12, 6, 1));
  BudgetEngine engine(clock);
  ASSERT_TRUE(engine.UpsertCap(MakeCap("team", Scope::kTeam, kUsd)).ok());
  clock.Advance(absl::Hours(1));
  absl::StatusOr<CheckResult> r = engine.Check(Req(1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->stale);
  EXPECT_EQ(r->decision, Decision::kAllow);
}

// The coordinator marks the counters current only after a refresh read them all; a failing
// database leaves them ageing, the observer sees the age after every round, and the first
// refresh that succeeds again ends the staleness.
class FlakyRepository final : public stepledger::testing::MemoryBudgetRepository {
 public:
  absl::StatusOr<domain::budget::CounterTotalsRead> ReadCounterTotals(
      absl::Time since, const domain::budget::ChangedCounters* changed) override {
    if (down) return absl::UnavailableError("read counters: connection refused");
    return MemoryBudgetRepository::ReadCounterTotals(since, changed);
  }
  absl::StatusOr<int64_t> CapsVersion() override {
    if (down) return absl::UnavailableError("read caps version: connection refused");
    return 1;
  }
  bool down = false;
};

class AgeRecorder final : public BudgetObserver {
 public:
  void OnCheck(const CheckResult&, absl::Duration) override {}
  void OnCheckRejected() override {}
  void OnAcknowledgement() override {}
  void OnRefresh(BudgetEngine&) override {}
  void OnCounterRead(bool, size_t) override {}
  void OnCountersAge(std::optional<absl::Duration> age) override { ages.push_back(age); }
  std::vector<std::optional<absl::Duration>> ages;
};

TEST(StaleCountersCoordinatorTest, ARefreshFailingPastTheLimitMakesChecksStaleUntilItRecovers) {
  stepledger::testing::FakeClock clock(testing::Utc(2026, 12, 6, 1));
  BudgetEngine engine(clock, {.instance_id = "t", .stale_after = kStaleAfter});
  FlakyRepository repo;
  repo.SetCap(ApplyCapDefaults(MakeCap("team", Scope::kTeam, kUsd)));
  AgeRecorder ages;
  BudgetCoordinator coordinator(engine, repo, clock, &ages);
  ASSERT_TRUE(coordinator.Start().ok());
  ASSERT_EQ(ages.ages.size(), 1u);
  EXPECT_EQ(ages.ages.back(), absl::ZeroDuration());

  repo.down = true;
  for (int second = 1; second <= 6; ++second) {
    clock.Advance(absl::Seconds(1));
    EXPECT_FALSE(coordinator.Refresh().ok());
    EXPECT_EQ(ages.ages.back(), absl::Seconds(second));
    absl::StatusOr<CheckResult> r = coordinator.Check(Req(1));
    ASSERT_TRUE(r.ok()) << r.status();
    // Stale from the first check past the limit on, never before.
    EXPECT_EQ(r->stale, absl::Seconds(second) > kStaleAfter) << second;
    EXPECT_EQ(r->decision, r->stale ? Decision::kRequireAck : Decision::kAllow) << second;
  }

  repo.down = false;
  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(coordinator.Refresh().ok());
  EXPECT_EQ(ages.ages.back(), absl::ZeroDuration());
  absl::StatusOr<CheckResult> r = coordinator.Check(Req(1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->stale);
  EXPECT_EQ(r->decision, Decision::kAllow);
}

TEST(StaleCountersCoordinatorTest, AReadOfOneNewCapsSeriesDoesNotMakeTheCountersCurrent) {
  stepledger::testing::FakeClock clock(testing::Utc(2026, 12, 6, 1));
  BudgetEngine engine(clock, {.instance_id = "t", .stale_after = kStaleAfter});
  FlakyRepository repo;
  BudgetCoordinator coordinator(engine, repo, clock, nullptr);
  ASSERT_TRUE(coordinator.Start().ok());
  const std::optional<absl::Time> started = engine.CountersAsOf();
  ASSERT_TRUE(started.has_value());
  clock.Advance(absl::Seconds(10));
  // PutCap reads only the new cap's series: the others are as old as before.
  ASSERT_TRUE(coordinator.PutCap(MakeCap("team", Scope::kTeam, kUsd), "lead").ok());
  EXPECT_EQ(engine.CountersAsOf(), started);
  absl::StatusOr<CheckResult> r = coordinator.Check(Req(1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stale);
}

}  // namespace
}  // namespace stepledger::domain::budget
