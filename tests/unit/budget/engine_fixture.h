// A BudgetEngine on a FakeClock at 2024-03-14 12:00 UTC, with helpers that fail the test on an
// unexpected error status.
#ifndef STEPLEDGER_TESTS_UNIT_BUDGET_ENGINE_FIXTURE_H_
#define STEPLEDGER_TESTS_UNIT_BUDGET_ENGINE_FIXTURE_H_

#include <optional>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "server/domain/budget/engine.h"
#include "tests/fakes/fake_clock.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget::testing {

class EngineTest : public ::testing::Test {
 protected:
  static absl::Time Start() { return Utc(2024, 3, 14, 12); }

  EngineTest() : clock_(Start()), engine_(clock_, EngineOptions{.instance_id = "t"}) {}

  void Put(const Cap& cap) {
    auto stored = engine_.UpsertCap(cap);
    ASSERT_TRUE(stored.ok()) << stored.status();
  }

  SpendOutcome Spend(NanoUsd cost, std::string step_id = "", Tags tags = ProdTags(),
                     std::optional<absl::Time> at = std::nullopt) {
    auto outcome = engine_.RecordSpend(tags, cost, at.value_or(clock_.Now()), step_id);
    EXPECT_TRUE(outcome.ok()) << outcome.status();
    return outcome.value_or(SpendOutcome::kDuplicateSettle);
  }

  CheckResult MustCheck(const CheckRequest& request) {
    auto result = engine_.Check(request);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(CheckResult{});
  }

  Decision DecisionFor(NanoUsd estimate) { return MustCheck(Req(estimate)).decision; }

  // An acknowledgement as BudgetCoordinator::Acknowledge hands it to the engine.
  Acknowledgement Ack(const std::string& cap_id, NanoUsd headroom,
                      absl::Duration ttl = absl::Hours(4)) {
    Acknowledgement ack{.id = "ack-" + std::to_string(++acks_made_),
                        .cap_id = cap_id,
                        .principal = "lead@example.com",
                        .reason = "launch day",
                        .extra_headroom = headroom,
                        .created_at = clock_.Now(),
                        .expires_at = clock_.Now() + ttl};
    const absl::Status s = engine_.LoadAcknowledgement(ack);
    EXPECT_TRUE(s.ok()) << s;
    return ack;
  }

  static const CapStatus& StatusOf(const CheckResult& r, std::string_view cap_id) {
    for (const CapStatus& s : r.caps) {
      if (s.cap->id == cap_id) return s;
    }
    ADD_FAILURE() << "no status for cap " << cap_id;
    static const CapStatus kNone;
    return kNone;
  }

  stepledger::testing::FakeClock clock_;
  BudgetEngine engine_;
  int acks_made_ = 0;
};

}  // namespace stepledger::domain::budget::testing

#endif  // STEPLEDGER_TESTS_UNIT_BUDGET_ENGINE_FIXTURE_H_
