#include "server/domain/budget/cap.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::domain::budget {
namespace {

using ::stepledger::domain::budget::testing::kUsd;
using ::stepledger::domain::budget::testing::MakeCap;
using ::testing::StartsWith;

TEST(CapDefaultsTest, EachTierGetsTheFinanceModelsDefaultAction) {
  EXPECT_EQ(DefaultAction(Scope::kFeature), Action::kAlert);
  EXPECT_EQ(DefaultAction(Scope::kTeam), Action::kRequireAck);
  EXPECT_EQ(DefaultAction(Scope::kTenant), Action::kAlert);
  EXPECT_EQ(DefaultAction(Scope::kOrg), Action::kRequireAck);
  EXPECT_EQ(ApplyCapDefaults(MakeCap("t", Scope::kTeam, kUsd)).action, Action::kRequireAck);
}

TEST(CapDefaultsTest, ExplicitActionIsKeptAndOtherDefaultsAreProductionAndEightyPercent) {
  Cap c = MakeCap("t", Scope::kTenant, kUsd);
  c.action = Action::kRequireAck;
  const Cap resolved = ApplyCapDefaults(c);
  EXPECT_EQ(resolved.action, Action::kRequireAck);
  EXPECT_EQ(resolved.environment, Environment::kProduction);
  EXPECT_EQ(resolved.alert_threshold_bps, 8000);
}

struct BadCapCase {
  const char* name;
  void (*mutate)(Cap&);
  const char* field;
};

class ValidateCapTest : public ::testing::TestWithParam<BadCapCase> {};

TEST_P(ValidateCapTest, RejectsWithAMessageNamingTheField) {
  Cap c = ApplyCapDefaults(MakeCap("team-search", Scope::kTeam, 100 * kUsd));
  ASSERT_TRUE(ValidateCap(c).ok());
  GetParam().mutate(c);
  const absl::Status s = ValidateCap(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith(GetParam().field));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ValidateCapTest,
    ::testing::Values(
        BadCapCase{"EmptyId", [](Cap& c) { c.id.clear(); }, "id"},
        BadCapCase{"NoScope", [](Cap& c) { c.scope = Scope::kUnspecified; }, "scope"},
        BadCapCase{"UpperCaseTeam", [](Cap& c) { c.key = "Search"; }, "key"},
        BadCapCase{"OrgKeyNotStar",
                   [](Cap& c) {
                     c.scope = Scope::kOrg;
                     c.key = "acme";
                   },
                   "key"},
        BadCapCase{"NoEnvironment", [](Cap& c) { c.environment = Environment::kUnspecified; },
                   "environment"},
        BadCapCase{"NoPeriod", [](Cap& c) { c.period = Period::kUnspecified; }, "period"},
        BadCapCase{"NegativeLimit", [](Cap& c) { c.limit_nano_usd = -1; }, "limit_nano_usd"},
        BadCapCase{"HugeLimit", [](Cap& c) { c.limit_nano_usd = kMaxLimitNanoUsd + 1; },
                   "limit_nano_usd"},
        BadCapCase{"NoAction", [](Cap& c) { c.action = Action::kUnspecified; }, "action"},
        BadCapCase{"ZeroThreshold", [](Cap& c) { c.alert_threshold_bps = 0; },
                   "alert_threshold_bps"},
        BadCapCase{"ThresholdOverWhole", [](Cap& c) { c.alert_threshold_bps = 10001; },
                   "alert_threshold_bps"},
        BadCapCase{"NoOwner", [](Cap& c) { c.owner.clear(); }, "owner"}),
    [](const auto& info) { return std::string(info.param.name); });

// A sign-off is a second credential's approval recorded by the collector (cap_governance.h),
// not a field: a cap awaiting it, shadow or enforced, is valid and enforced.
TEST(ValidateCapTest, NoCapNeedsATypedSignOff) {
  Cap c = ApplyCapDefaults(MakeCap("trial", Scope::kFeature, kUsd));
  c.signed_off_by.clear();
  EXPECT_TRUE(ValidateCap(c).ok());
  c.shadow = true;
  EXPECT_TRUE(ValidateCap(c).ok());
}

TEST(ValidateCapTest, TenantKeysAllowColonsAndCapitals) {
  Cap c = ApplyCapDefaults(MakeCap("tenant", Scope::kTenant, kUsd));
  c.key = "Workspace:42";
  EXPECT_TRUE(ValidateCap(c).ok());
}

}  // namespace
}  // namespace stepledger::domain::budget
