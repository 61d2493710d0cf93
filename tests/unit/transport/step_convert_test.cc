// step_convert: both readings of a StepEvent convert by the same rules; Timestamps are checked
// against protobuf's range; the digest does not depend on the order a client wrote a map in.
#include "server/transport/step_convert.h"

#include <string>

#include "gtest/gtest.h"

namespace stepledger::transport {
namespace {

v1::StepEvent FullEvent() {
  v1::StepEvent e;
  e.set_event_id("e-1");
  e.mutable_tags()->set_feature("inbox-triage");
  e.mutable_tags()->set_team("mail-ai");
  e.mutable_tags()->set_tenant("acme:ws-1");
  e.mutable_tags()->set_workload_class(v1::WORKLOAD_CLASS_BATCH);
  e.mutable_tags()->set_environment(v1::ENVIRONMENT_STAGING);
  e.mutable_tags()->set_parent_run_id("run-1");
  e.set_step_id("s-2");
  e.set_parent_step_id("s-1");
  e.set_kind(v1::STEP_KIND_TOOL_CALL);
  e.set_name("search");
  e.set_provider("openai");
  e.set_model("gpt-4o");
  e.mutable_usage()->set_input_uncached_tokens(10);
  e.mutable_usage()->set_output_tokens(0);  // present and zero: known, not unknown
  e.set_cost_nano_usd(1234);
  e.set_tool_name("web_search");
  e.set_tool_owner_team("search-infra");
  e.set_status("ok");
  e.set_operation_id("op-1");
  e.set_attempt(2);
  e.mutable_started_at()->set_seconds(1'700'000'000);
  e.mutable_started_at()->set_nanos(5);
  e.mutable_ended_at()->set_seconds(1'700'000'001);
  (*e.mutable_attributes())["b"] = "2";
  (*e.mutable_attributes())["a"] = "1";
  e.set_service_tier("flex");
  e.set_tool_units(3);
  return e;
}

TEST(StepConvertTest, EveryFieldConverts) {
  ConvertedStep c = FromWire(FullEvent());
  ASSERT_FALSE(c.error.has_value());
  const domain::Step& s = c.step;
  EXPECT_EQ(s.event_id, "e-1");
  EXPECT_EQ(s.tags.tenant, "acme:ws-1");
  EXPECT_EQ(s.tags.workload_class, domain::WorkloadClass::kBatch);
  EXPECT_EQ(s.tags.environment, domain::Environment::kStaging);
  EXPECT_EQ(s.kind, domain::StepKind::kToolCall);
  EXPECT_EQ(s.usage.input_uncached_tokens, 10);
  EXPECT_EQ(s.usage.output_tokens, 0);
  EXPECT_FALSE(s.usage.cache_read_tokens.has_value());
  EXPECT_EQ(s.cost_nano_usd, 1234);
  EXPECT_EQ(s.attempt, 2);
  EXPECT_EQ(*s.started_at, absl::FromUnixSeconds(1'700'000'000) + absl::Nanoseconds(5));
  EXPECT_EQ(s.attributes.size(), 2u);
  EXPECT_EQ(s.service_tier, "flex");
  EXPECT_EQ(s.tool_units, 3);
}

TEST(StepConvertTest, TheLenientReadingConvertsToTheSameStep) {
  const v1::StepEvent api = FullEvent();
  internal::WireStepEvent wire;
  ASSERT_TRUE(wire.ParseFromString(api.SerializeAsString()));
  const domain::Step a = FromWire(api).step;
  const domain::Step b = FromWire(wire).step;
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.tags.feature, b.tags.feature);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.ended_at, b.ended_at);
  EXPECT_EQ(a.attributes, b.attributes);
  EXPECT_EQ(a.usage.output_tokens, b.usage.output_tokens);
  EXPECT_EQ(a.tool_units, b.tool_units);
}

TEST(StepConvertTest, TimestampRangeIsProtobufsInclusive) {
  v1::StepEvent e = FullEvent();
  e.mutable_started_at()->set_seconds(253'402'300'799);  // 9999-12-31T23:59:59Z
  e.mutable_started_at()->set_nanos(999'999'999);
  e.mutable_ended_at()->set_seconds(-62'135'596'800);  // 0001-01-01T00:00:00Z
  EXPECT_FALSE(FromWire(e).error.has_value());
  e.mutable_started_at()->set_seconds(253'402'300'800);
  ConvertedStep c = FromWire(e);
  ASSERT_TRUE(c.error.has_value());
  EXPECT_EQ(c.error->field, "started_at");
  EXPECT_FALSE(c.step.started_at.has_value());
}

TEST(StepConvertTest, TheDigestIgnoresTheOrderOfMapEntries) {
  v1::StepEvent one = FullEvent();
  v1::StepEvent two = FullEvent();
  two.mutable_attributes()->clear();
  (*two.mutable_attributes())["a"] = "1";
  (*two.mutable_attributes())["b"] = "2";
  EXPECT_EQ(EventDigest(one), EventDigest(two));
  two.set_cost_nano_usd(1235);
  EXPECT_NE(EventDigest(one), EventDigest(two));
  EXPECT_EQ(EventDigest(one).size(), 32u);
}

}  // namespace
}  // namespace stepledger::transport
