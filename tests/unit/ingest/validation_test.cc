#include "server/domain/ingest/validation.h"

#include <functional>
#include <string>

#include "gtest/gtest.h"
#include "server/domain/ingest/text.h"

namespace stepledger::domain::ingest {
namespace {

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 28, 12, 0, 0), absl::UTCTimeZone());

Step ValidProductionStep() {
  Step s;
  s.event_id = "evt-1";
  s.tags = {"inbox-triage",           "mail-ai", WorkloadClass::kInteractive, "acme:ws-1",
            Environment::kProduction, "run-1"};
  s.step_id = "s1";
  s.kind = StepKind::kModelCall;
  s.model = "gpt-4o";
  s.usage.input_uncached_tokens = 100;
  s.usage.output_tokens = 10;
  s.started_at = kNow - absl::Seconds(5);
  s.ended_at = kNow - absl::Seconds(1);
  return s;
}

struct Case {
  std::string name;
  std::function<void(Step&)> mutate;
  std::string field;         // expected field; empty = accepted
  std::string reason_start;  // expected reason prefix when rejected
};

class ValidationTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidationTableTest, RejectsNamingTheFieldOrAccepts) {
  const Case& c = GetParam();
  Step s = ValidProductionStep();
  c.mutate(s);
  Verdict v = ValidateStep(s, kNow, ValidationLimits{});
  if (c.field.empty()) {
    EXPECT_FALSE(v.error.has_value()) << v.error->field << ": " << v.error->reason;
  } else {
    ASSERT_TRUE(v.error.has_value()) << "expected a rejection on " << c.field;
    EXPECT_EQ(v.error->field, c.field);
    EXPECT_EQ(v.error->reason.rfind(c.reason_start, 0), 0u) << v.error->reason;
    EXPECT_EQ(v.status, AttributionStatus::kQuarantined);
  }
}

std::string Repeat(char c, size_t n) { return std::string(n, c); }

INSTANTIATE_TEST_SUITE_P(
    EveryRule, ValidationTableTest,
    ::testing::Values(
        Case{"valid", [](Step&) {}, "", ""},
        Case{"missing_event_id", [](Step& s) { s.event_id.clear(); }, "event_id", "missing"},
        Case{"event_id_too_long", [](Step& s) { s.event_id = Repeat('e', 129); }, "event_id",
             "malformed"},
        Case{"event_id_128_ok", [](Step& s) { s.event_id = Repeat('e', 128); }, "", ""},
        Case{"event_id_control_char", [](Step& s) { s.event_id = "a\x01"; }, "event_id",
             "malformed"},
        Case{"missing_environment",
             [](Step& s) { s.tags.environment = Environment::kUnspecified; }, "tags.environment",
             "missing"},
        Case{"missing_feature", [](Step& s) { s.tags.feature.clear(); }, "tags.feature",
             "missing"},
        Case{"feature_upper_case", [](Step& s) { s.tags.feature = "Inbox"; }, "tags.feature",
             "malformed"},
        Case{"feature_leading_dash", [](Step& s) { s.tags.feature = "-inbox"; }, "tags.feature",
             "malformed"},
        Case{"feature_64_ok", [](Step& s) { s.tags.feature = Repeat('f', 64); }, "", ""},
        Case{"feature_65_too_long", [](Step& s) { s.tags.feature = Repeat('f', 65); },
             "tags.feature", "malformed"},
        Case{"feature_dots_underscores_ok", [](Step& s) { s.tags.feature = "a.b_c-d9"; }, "",
             ""},
        Case{"missing_team", [](Step& s) { s.tags.team.clear(); }, "tags.team", "missing"},
        Case{"team_space", [](Step& s) { s.tags.team = "mail ai"; }, "tags.team", "malformed"},
        Case{"missing_workload_class",
             [](Step& s) { s.tags.workload_class = WorkloadClass::kUnspecified; },
             "tags.workload_class", "missing"},
        Case{"missing_tenant", [](Step& s) { s.tags.tenant.clear(); }, "tags.tenant", "missing"},
        Case{"tenant_upper_colon_ok", [](Step& s) { s.tags.tenant = "ACME:Org.1_x-y"; }, "", ""},
        Case{"tenant_129_too_long", [](Step& s) { s.tags.tenant = Repeat('T', 129); },
             "tags.tenant", "malformed"},
        Case{"tenant_slash", [](Step& s) { s.tags.tenant = "acme/1"; }, "tags.tenant",
             "malformed"},
        Case{"missing_parent_run_id", [](Step& s) { s.tags.parent_run_id.clear(); },
             "tags.parent_run_id", "missing"},
        Case{"parent_run_id_129", [](Step& s) { s.tags.parent_run_id = Repeat('r', 129); },
             "tags.parent_run_id", "malformed"},
        Case{"missing_step_id", [](Step& s) { s.step_id.clear(); }, "step_id", "missing"},
        Case{"self_parent", [](Step& s) { s.parent_step_id = s.step_id; }, "parent_step_id",
             "self-parenting"},
        Case{"name_too_long", [](Step& s) { s.name = Repeat('n', 257); }, "name", "too long"},
        Case{"model_too_long", [](Step& s) { s.model = Repeat('m', 129); }, "model", "too long"},
        Case{"provider_too_long", [](Step& s) { s.provider = Repeat('p', 65); }, "provider",
             "too long"},
        Case{"status_too_long", [](Step& s) { s.status = Repeat('x', 65); }, "status",
             "too long"},
        Case{"tool_owner_malformed", [](Step& s) { s.tool_owner_team = "Search Team"; },
             "tool_owner_team", "malformed"},
        Case{"service_tier_too_long", [](Step& s) { s.service_tier = Repeat('t', 17); },
             "service_tier", "too long"},
        Case{"negative_tool_units", [](Step& s) { s.tool_units = -1; }, "tool_units",
             "negative"},
        Case{"tool_units_zero_ok", [](Step& s) { s.tool_units = 0; }, "", ""},
        Case{"negative_attempt", [](Step& s) { s.attempt = -1; }, "attempt", "out of range"},
        Case{"attempt_too_high", [](Step& s) { s.attempt = 1001; }, "attempt", "out of range"},
        Case{"negative_tokens", [](Step& s) { s.usage.output_tokens = -5; },
             "usage.output_tokens", "negative"},
        Case{"implausible_tokens", [](Step& s) { s.usage.cache_read_tokens = 20'000'000'000; },
             "usage.cache_read_tokens", "implausible"},
        Case{"negative_cost", [](Step& s) { s.cost_nano_usd = -1; }, "cost_nano_usd",
             "negative"},
        Case{"implausible_cost",
             [](Step& s) { s.cost_nano_usd = int64_t{2'000'000} * kNanoUsdPerUsd; },
             "cost_nano_usd", "implausible"},
        Case{"started_far_future", [](Step& s) { s.started_at = kNow + absl::Hours(2); },
             "started_at", "in the future"},
        Case{"started_small_skew_ok",
             [](Step& s) {
               s.started_at = kNow + absl::Minutes(30);
               s.ended_at = kNow + absl::Minutes(31);
             },
             "", ""},
        Case{"started_too_old", [](Step& s) { s.started_at = kNow - absl::Hours(24 * 500); },
             "started_at", "too old"},
        Case{"ended_before_started", [](Step& s) { s.ended_at = *s.started_at - absl::Seconds(1); },
             "ended_at", "before started_at"},
        Case{"too_many_attributes",
             [](Step& s) {
               for (int i = 0; i < 33; ++i) s.attributes["k" + std::to_string(i)] = "v";
             },
             "attributes", "too many"},
        Case{"attributes_32_ok",
             [](Step& s) {
               for (int i = 0; i < 32; ++i) s.attributes["k" + std::to_string(i)] = "v";
             },
             "", ""},
        Case{"attribute_key_too_long", [](Step& s) { s.attributes[Repeat('k', 65)] = "v"; },
             "attributes", "key must be"},
        Case{"attribute_value_too_long", [](Step& s) { s.attributes["k"] = Repeat('v', 257); },
             "attributes.k", "too long"},
        Case{"name_invalid_utf8", [](Step& s) { s.name = "plan\xff\xfe"; }, "name",
             "malformed"},
        Case{"model_with_nul", [](Step& s) { s.model = std::string("gpt\0x", 5); }, "model",
             "malformed"},
        Case{"attribute_value_invalid_utf8", [](Step& s) { s.attributes["k"] = "\xc0\xaf"; },
             "attributes.k", "malformed"},
        Case{"attribute_key_invalid_utf8", [](Step& s) { s.attributes["k\xff"] = "v"; },
             "attributes", "malformed key"},
        Case{"team_invalid_utf8", [](Step& s) { s.tags.team = "\xff\xfe"; }, "tags.team",
             "malformed"},
        Case{"event_id_invalid_utf8", [](Step& s) { s.event_id = "e\xff"; }, "event_id",
             "malformed"},
        Case{"name_multibyte_utf8_ok", [](Step& s) { s.name = "r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x93\x84"; },
             "", ""}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(ValidationTest, ReasonQuotesUnstorableBytesEscaped) {
  Step s = ValidProductionStep();
  s.tags.team = "a\xff";
  Verdict v = ValidateStep(s, kNow, {});
  ASSERT_TRUE(v.error.has_value());
  EXPECT_NE(v.error->reason.find("a\\xff"), std::string::npos) << v.error->reason;
  EXPECT_TRUE(IsStorableText(v.error->reason));
}

TEST(ValidationTest, AttemptZeroIsReadAsFirstTry) {
  Step s = ValidProductionStep();
  s.attempt = 0;
  EXPECT_FALSE(ValidateStep(s, kNow, {}).error.has_value());
  EXPECT_EQ(s.attempt, 1);
}

TEST(ValidationTest, CompleteProductionStepIsComplete) {
  Step s = ValidProductionStep();
  EXPECT_EQ(ValidateStep(s, kNow, {}).status, AttributionStatus::kComplete);
}

TEST(ValidationTest, StagingMissingTagsGoToUnattributedBucket) {
  Step s = ValidProductionStep();
  s.tags.environment = Environment::kStaging;
  s.tags.feature.clear();
  s.tags.team.clear();
  s.tags.tenant.clear();
  s.tags.workload_class = WorkloadClass::kUnspecified;
  s.tags.parent_run_id.clear();
  Verdict v = ValidateStep(s, kNow, {});
  ASSERT_FALSE(v.error.has_value()) << v.error->reason;
  EXPECT_EQ(v.status, AttributionStatus::kDefaulted);
  EXPECT_EQ(s.tags.feature, kUnattributed);
  EXPECT_EQ(s.tags.team, kUnattributed);
  EXPECT_EQ(s.tags.tenant, kUnattributed);
  EXPECT_EQ(s.tags.parent_run_id, kUnattributed);
  EXPECT_EQ(ToString(s.tags.workload_class), kUnattributed);
}

TEST(ValidationTest, EvalMissingFeatureIsDefaultedButMalformedIsRejected) {
  Step s = ValidProductionStep();
  s.tags.environment = Environment::kEval;
  s.tags.feature.clear();
  Verdict v = ValidateStep(s, kNow, {});
  EXPECT_FALSE(v.error.has_value());
  EXPECT_EQ(v.status, AttributionStatus::kDefaulted);

  Step bad = ValidProductionStep();
  bad.tags.environment = Environment::kEval;
  bad.tags.team = "Bad Team";
  Verdict w = ValidateStep(bad, kNow, {});
  ASSERT_TRUE(w.error.has_value());
  EXPECT_EQ(w.error->field, "tags.team");
}

TEST(ValidationTest, StagingStillNeedsEnvironment) {
  Step s = ValidProductionStep();
  s.tags.environment = Environment::kUnspecified;
  s.tags.feature.clear();
  Verdict v = ValidateStep(s, kNow, {});
  ASSERT_TRUE(v.error.has_value());
  EXPECT_EQ(v.error->field, "tags.environment");
}

TEST(ValidationTest, ProductionChildWithoutTagsIsPendingInheritance) {
  Step s = ValidProductionStep();
  s.parent_step_id = "s0";
  s.tags.feature.clear();
  s.tags.team.clear();
  s.tags.tenant.clear();
  s.tags.workload_class = WorkloadClass::kUnspecified;
  Verdict v = ValidateStep(s, kNow, {});
  EXPECT_FALSE(v.error.has_value()) << v.error->field;
  EXPECT_TRUE(v.inheritable);
  EXPECT_EQ(v.status, AttributionStatus::kPending);
  EXPECT_TRUE(s.tags.feature.empty()) << "own tags stay as sent; charged tags come from the root";
}

TEST(ValidationTest, PendingChildIsStillCheckedOnEveryOtherField) {
  Step s = ValidProductionStep();
  s.parent_step_id = "s0";
  s.tags.team.clear();
  s.usage.output_tokens = -1;
  Verdict v = ValidateStep(s, kNow, {});
  ASSERT_TRUE(v.error.has_value());
  EXPECT_EQ(v.error->field, "usage.output_tokens");

  Step malformed = ValidProductionStep();
  malformed.parent_step_id = "s0";
  malformed.tags.team.clear();
  malformed.tags.feature = "Bad Feature";
  Verdict w = ValidateStep(malformed, kNow, {});
  ASSERT_TRUE(w.error.has_value());
  EXPECT_EQ(w.error->field, "tags.feature");
}

TEST(ValidationTest, RootOrRunlessStepWithoutTagsIsRejected) {
  Step root = ValidProductionStep();
  root.tags.feature.clear();
  Verdict r = ValidateStep(root, kNow, {});
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->field, "tags.feature");
  EXPECT_FALSE(r.inheritable) << "a root step has nobody to inherit from";

  Step runless = ValidProductionStep();
  runless.parent_step_id = "s0";
  runless.tags.parent_run_id.clear();
  runless.tags.team.clear();
  Verdict n = ValidateStep(runless, kNow, {});
  ASSERT_TRUE(n.error.has_value());
}

TEST(ValidationTest, OccurredAtFallsBackToReceiveTime) {
  Step s = ValidProductionStep();
  EXPECT_EQ(OccurredAt(s, kNow), *s.started_at);
  s.started_at.reset();
  EXPECT_EQ(OccurredAt(s, kNow), kNow);
}

}  // namespace
}  // namespace stepledger::domain::ingest
