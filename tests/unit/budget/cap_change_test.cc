// The loosen/tighten classification behind the sign-off flow (cap_change.h): which changes
// may take effect at once and which wait for a second credential.
#include "server/domain/budget/cap_change.h"

#include <functional>

#include "gtest/gtest.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

Cap Enforced() {
  return ApplyCapDefaults(testing::MakeCap("team-cap", Scope::kTeam, 100 * testing::kUsd));
}

struct ChangeCase {
  const char* name;
  std::function<void(Cap&)> change;
  ChangeEffect on_enforced;
};

class CapChangeTest : public ::testing::TestWithParam<ChangeCase> {};

TEST_P(CapChangeTest, EnforcedCapsLoosenOnlyWhereEnforcementWeakens) {
  const Cap before = Enforced();
  Cap after = before;
  GetParam().change(after);
  after = ApplyCapDefaults(after);
  const CapChangeClass c = ClassifyCapChange(&before, &after);
  EXPECT_EQ(c.effect, GetParam().on_enforced);
  ASSERT_FALSE(c.changes.empty());
  // A shadow cap enforces nothing: no change to it loosens anything.
  Cap shadow_before = before;
  shadow_before.shadow = true;
  Cap shadow_after = after;
  shadow_after.shadow = true;
  EXPECT_NE(ClassifyCapChange(&shadow_before, &shadow_after).effect, ChangeEffect::kLoosens);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CapChangeTest,
    ::testing::Values(
        ChangeCase{"LowerLimit", [](Cap& c) { c.limit_nano_usd /= 2; }, ChangeEffect::kSafe},
        ChangeCase{"HigherLimit", [](Cap& c) { c.limit_nano_usd *= 2; }, ChangeEffect::kLoosens},
        ChangeCase{"WeakerAction",
                   [](Cap& c) {
                     c.action = Action::kAlert;
                     c.stale_policy = StalePolicy::kRequireAck == c.stale_policy
                                          ? StalePolicy::kAlert
                                          : c.stale_policy;
                   },
                   ChangeEffect::kLoosens},
        ChangeCase{"LowerThreshold", [](Cap& c) { c.alert_threshold_bps = 5000; },
                   ChangeEffect::kSafe},
        ChangeCase{"HigherThreshold", [](Cap& c) { c.alert_threshold_bps = 9500; },
                   ChangeEffect::kLoosens},
        ChangeCase{"WeakerStalePolicy", [](Cap& c) { c.stale_policy = StalePolicy::kAnswer; },
                   ChangeEffect::kLoosens},
        ChangeCase{"ToShadow", [](Cap& c) { c.shadow = true; }, ChangeEffect::kLoosens},
        ChangeCase{"OtherKey", [](Cap& c) { c.key = "billing"; }, ChangeEffect::kLoosens},
        ChangeCase{"OtherPeriod", [](Cap& c) { c.period = Period::kMonthly; },
                   ChangeEffect::kLoosens},
        ChangeCase{"OtherEnvironment", [](Cap& c) { c.environment = Environment::kStaging; },
                   ChangeEffect::kLoosens},
        ChangeCase{"OtherOwner", [](Cap& c) { c.owner = "someone-else"; }, ChangeEffect::kLoosens},
        ChangeCase{"LowerLimitButHigherThreshold",
                   [](Cap& c) {
                     c.limit_nano_usd /= 2;
                     c.alert_threshold_bps = 9000;
                   },
                   ChangeEffect::kLoosens}),
    [](const ::testing::TestParamInfo<ChangeCase>& info) { return info.param.name; });

TEST(CapChangeClassTest, NewCapsAndStricterActionsAreSafe) {
  const Cap cap = Enforced();
  EXPECT_EQ(ClassifyCapChange(nullptr, &cap).effect, ChangeEffect::kSafe);
  Cap alert = ApplyCapDefaults(testing::MakeCap("f", Scope::kFeature, testing::kUsd));
  ASSERT_EQ(alert.action, Action::kAlert);
  Cap stricter = alert;
  stricter.action = Action::kRequireAck;
  EXPECT_EQ(ClassifyCapChange(&alert, &stricter).effect, ChangeEffect::kSafe);
}

TEST(CapChangeClassTest, ShadowToEnforcedIsSafeAndTheReverseLoosens) {
  Cap shadow = Enforced();
  shadow.shadow = true;
  const Cap enforced = Enforced();
  EXPECT_EQ(ClassifyCapChange(&shadow, &enforced).effect, ChangeEffect::kSafe);
  EXPECT_EQ(ClassifyCapChange(&enforced, &shadow).effect, ChangeEffect::kLoosens);
}

TEST(CapChangeClassTest, DeletingLoosensOnlyAnEnforcedCap) {
  Cap cap = Enforced();
  EXPECT_EQ(ClassifyCapChange(&cap, nullptr).effect, ChangeEffect::kLoosens);
  cap.shadow = true;
  EXPECT_EQ(ClassifyCapChange(&cap, nullptr).effect, ChangeEffect::kSafe);
}

TEST(CapChangeClassTest, SignOffRevisionAndAuthorAreNotSettings) {
  const Cap before = Enforced();
  Cap after = before;
  after.signed_off_by = "someone";
  after.revision = 7;
  after.changed_by = "key:x/y";
  const CapChangeClass c = ClassifyCapChange(&before, &after);
  EXPECT_EQ(c.effect, ChangeEffect::kNone);
  EXPECT_TRUE(c.changes.empty());
}

TEST(CapChangeClassTest, ChangesNameTheFieldAndBothValues) {
  const Cap before = Enforced();
  Cap after = before;
  after.limit_nano_usd = 2 * before.limit_nano_usd;
  const CapChangeClass c = ClassifyCapChange(&before, &after);
  ASSERT_EQ(c.changes.size(), 1u);
  EXPECT_EQ(c.changes[0], "limit_nano_usd 100000000000 -> 200000000000 (loosens)");
}

}  // namespace
}  // namespace stepledger::domain::budget
