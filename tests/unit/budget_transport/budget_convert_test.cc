// CheckResult -> CheckBudgetResponse: every matching cap's status on the flat CapStatus, every
// field the contract names (limit, spent, reserved, acknowledged headroom, remaining,
// burn rate, projected exhaustion, period end, owner) plus the cap's identity.
#include "server/transport/budget_convert.h"

#include <google/protobuf/util/json_util.h>

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::transport {
namespace {

using domain::budget::Action;
using domain::budget::CapStatus;
using domain::budget::CheckResult;
using domain::budget::Decision;
using domain::budget::Period;
using domain::budget::Scope;
using domain::budget::testing::kUsd;
using domain::budget::testing::MakeCap;
using domain::budget::testing::Utc;

// As the engine holds caps: with the tier defaults applied.
CapStatus StatusOf(domain::budget::Cap cap) {
  CapStatus s;
  s.cap =
      std::make_shared<const domain::budget::Cap>(domain::budget::ApplyCapDefaults(std::move(cap)));
  return s;
}

TEST(BudgetConvertTest, EveryCapStatusFieldIsOnTheWire) {
  domain::budget::Cap cap =
      MakeCap("team-search-monthly", Scope::kTeam, 200 * kUsd, Period::kMonthly);
  cap.action = Action::kRequireAck;
  cap.alert_threshold_bps = 9000;
  cap.shadow = true;
  CapStatus st = StatusOf(cap);
  st.spent = 150 * kUsd;
  st.reserved = 2 * kUsd;
  st.acknowledged_headroom = 25 * kUsd;
  st.remaining = 73 * kUsd;
  st.burn_rate_per_hour = 4 * kUsd;
  st.projected_exhaustion = Utc(2024, 3, 15, 6, 15);
  st.period_start = Utc(2024, 3, 1);
  st.period_end = Utc(2024, 4, 1);
  st.decision = Decision::kRequireAck;
  CheckResult result;
  result.decision = Decision::kAlert;
  result.deciding_scope = Scope::kTenant;
  result.deciding_cap_id = "tenant-acme";
  result.reservation_id = "r-1";
  result.caps.push_back(st);

  v1::CheckBudgetResponse out;
  ToProto(result, &out);

  EXPECT_EQ(out.decision(), v1::DECISION_ALERT);
  EXPECT_EQ(out.deciding_scope(), v1::SCOPE_TENANT);
  EXPECT_EQ(out.deciding_cap_id(), "tenant-acme");
  EXPECT_EQ(out.reservation_id(), "r-1");
  ASSERT_EQ(out.caps_size(), 1);
  const v1::CapStatus& s = out.caps(0);
  EXPECT_EQ(s.cap_id(), "team-search-monthly");
  EXPECT_EQ(s.scope(), v1::SCOPE_TEAM);
  EXPECT_EQ(s.key(), "search");
  EXPECT_EQ(s.period(), v1::PERIOD_MONTHLY);
  EXPECT_EQ(s.limit_nano_usd(), 200 * kUsd);
  EXPECT_EQ(s.action(), v1::CAP_ACTION_REQUIRE_ACK);
  EXPECT_EQ(s.alert_threshold_bps(), 9000);
  EXPECT_EQ(s.owner(), "lead@example.com");
  EXPECT_TRUE(s.shadow());
  EXPECT_EQ(s.spent_nano_usd(), 150 * kUsd);
  EXPECT_EQ(s.reserved_nano_usd(), 2 * kUsd);
  EXPECT_EQ(s.acknowledged_headroom_nano_usd(), 25 * kUsd);
  EXPECT_EQ(s.remaining_nano_usd(), 73 * kUsd);
  EXPECT_EQ(s.burn_rate_nano_usd_per_hour(), 4 * kUsd);
  ASSERT_TRUE(s.has_projected_exhaustion_unix_seconds());
  EXPECT_EQ(s.projected_exhaustion_unix_seconds(), absl::ToUnixSeconds(Utc(2024, 3, 15, 6, 15)));
  EXPECT_EQ(s.period_start_unix_seconds(), absl::ToUnixSeconds(Utc(2024, 3, 1)));
  EXPECT_EQ(s.period_end_unix_seconds(), absl::ToUnixSeconds(Utc(2024, 4, 1)));
  EXPECT_EQ(s.decision(), v1::DECISION_REQUIRE_ACK);
}

TEST(BudgetConvertTest, NoProjectedExhaustionIsAbsentNotZero) {
  CheckResult result;
  result.caps.push_back(StatusOf(MakeCap("f", Scope::kFeature, kUsd)));
  v1::CheckBudgetResponse out;
  ToProto(result, &out);
  ASSERT_EQ(out.caps_size(), 1);
  EXPECT_FALSE(out.caps(0).has_projected_exhaustion_unix_seconds());
  EXPECT_EQ(out.caps(0).action(), v1::CAP_ACTION_ALERT);  // never UNSPECIFIED on the wire
}

TEST(BudgetConvertTest, SubSecondProjectionIsTruncatedToTheSecond) {
  CapStatus st = StatusOf(MakeCap("f", Scope::kFeature, kUsd));
  st.projected_exhaustion = Utc(2024, 3, 15, 6) + absl::Milliseconds(999);
  CheckResult result;
  result.caps.push_back(st);
  v1::CheckBudgetResponse out;
  ToProto(result, &out);
  EXPECT_EQ(out.caps(0).projected_exhaustion_unix_seconds(),
            absl::ToUnixSeconds(Utc(2024, 3, 15, 6)));
}

TEST(BudgetConvertTest, JsonUsesTheDocumentedFieldNames) {
  CapStatus st = StatusOf(MakeCap("org", Scope::kOrg, kUsd));
  st.period_end = Utc(2024, 3, 15);
  CheckResult result;
  result.caps.push_back(st);
  v1::CheckBudgetResponse out;
  ToProto(result, &out);
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(out, &json, print).ok());
  EXPECT_NE(json.find("\"cap_id\":\"org\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"owner\":\"lead@example.com\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"period_end_unix_seconds\":\"1710460800\""), std::string::npos) << json;
}

TEST(BudgetConvertTest, AStalePolicyRoundTripsAndAnUnknownOneNamesTheField) {
  v1::Cap in;
  in.set_id("team-search");
  in.set_scope(v1::SCOPE_TEAM);
  in.set_key("search");
  in.set_period(v1::PERIOD_DAILY);
  in.set_stale_policy(v1::STALE_POLICY_ANSWER);
  absl::StatusOr<domain::budget::Cap> cap = FromProto(in);
  ASSERT_TRUE(cap.ok()) << cap.status();
  EXPECT_EQ(cap->stale_policy, domain::budget::StalePolicy::kAnswer);
  v1::Cap out;
  ToProto(*cap, &out);
  EXPECT_EQ(out.stale_policy(), v1::STALE_POLICY_ANSWER);

  in.set_stale_policy(v1::STALE_POLICY_UNSPECIFIED);  // the action's default, filled later
  ASSERT_TRUE(FromProto(in).ok());
  EXPECT_EQ(FromProto(in)->stale_policy, domain::budget::StalePolicy::kUnspecified);

  in.set_stale_policy(static_cast<v1::StalePolicy>(42));
  const absl::Status s = FromProto(in).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message().rfind("cap.stale_policy:", 0), 0u) << s;
}

}  // namespace
}  // namespace stepledger::transport
