#include "server/domain/otlp/span_mapping.h"

#include <gtest/gtest.h>

namespace stepledger::domain::otlp {
namespace {

constexpr char kTrace[] = "0af7651916cd43dd8448eb211c80319c";

Span GenAiSpan(std::string span_id, std::string parent, std::string op) {
  Span span;
  span.trace_id = kTrace;
  span.span_id = std::move(span_id);
  span.parent_span_id = std::move(parent);
  span.name = op;
  span.attributes["gen_ai.operation.name"] = op;
  return span;
}

std::optional<ingest::FieldError> NoError() { return std::nullopt; }

TEST(UsageOf, CachedTokensComeOutOfInputAndReasoningOutOfOutput) {
  Attributes a{{"gen_ai.usage.input_tokens", int64_t{1000}},
               {"gen_ai.usage.cache_read.input_tokens", int64_t{600}},
               {"gen_ai.usage.cache_creation.input_tokens", int64_t{100}},
               {"gen_ai.usage.output_tokens", int64_t{500}},
               {"gen_ai.usage.reasoning.output_tokens", int64_t{200}}};
  auto error = NoError();
  Usage u = UsageOf(a, &error);
  EXPECT_FALSE(error.has_value());
  EXPECT_EQ(u.input_uncached_tokens, 300);
  EXPECT_EQ(u.cache_read_tokens, 600);
  EXPECT_EQ(u.cache_write_tokens, 100);
  EXPECT_EQ(u.output_tokens, 300);
  EXPECT_EQ(u.reasoning_tokens, 200);
}

TEST(UsageOf, AbsentCountsStayAbsentNeverZero) {
  auto error = NoError();
  Usage u = UsageOf({{"gen_ai.usage.output_tokens", int64_t{7}}}, &error);
  EXPECT_FALSE(u.input_uncached_tokens.has_value());
  EXPECT_FALSE(u.cache_read_tokens.has_value());
  EXPECT_FALSE(u.cache_write_tokens.has_value());
  EXPECT_FALSE(u.reasoning_tokens.has_value());
  EXPECT_EQ(u.output_tokens, 7);
}

TEST(UsageOf, OlderAttributeNamesAreRead) {
  auto error = NoError();
  Usage u = UsageOf({{"gen_ai.usage.prompt_tokens", int64_t{50}},
                     {"gen_ai.usage.completion_tokens", int64_t{20}},
                     {"gen_ai.usage.cache_read_input_tokens", int64_t{10}},
                     {"gen_ai.usage.cache_creation_input_tokens", int64_t{5}}},
                    &error);
  EXPECT_FALSE(error.has_value());
  EXPECT_EQ(u.input_uncached_tokens, 35);
  EXPECT_EQ(u.cache_read_tokens, 10);
  EXPECT_EQ(u.cache_write_tokens, 5);
  EXPECT_EQ(u.output_tokens, 20);
}

TEST(UsageOf, CurrentNameWinsOverOlderName) {
  auto error = NoError();
  Usage u = UsageOf(
      {{"gen_ai.usage.input_tokens", int64_t{9}}, {"gen_ai.usage.prompt_tokens", int64_t{1000}}},
      &error);
  EXPECT_EQ(u.input_uncached_tokens, 9);
}

TEST(UsageOf, RawProviderInputSmallerThanCacheIsTakenAsUncachedNeverNegative) {
  // Anthropic-style raw counts: input excludes the 900 cache-read tokens.
  auto error = NoError();
  Usage u = UsageOf({{"gen_ai.usage.input_tokens", int64_t{40}},
                     {"gen_ai.usage.cache_read.input_tokens", int64_t{900}},
                     {"gen_ai.usage.output_tokens", int64_t{10}},
                     {"gen_ai.usage.reasoning.output_tokens", int64_t{30}}},
                    &error);
  EXPECT_EQ(u.input_uncached_tokens, 40);
  EXPECT_EQ(u.cache_read_tokens, 900);
  EXPECT_EQ(u.output_tokens, 10);
  EXPECT_EQ(u.reasoning_tokens, 30);
}

TEST(UsageOf, IntegralDoubleAccepted) {
  auto error = NoError();
  Usage u = UsageOf({{"gen_ai.usage.input_tokens", 12.0}}, &error);
  EXPECT_FALSE(error.has_value());
  EXPECT_EQ(u.input_uncached_tokens, 12);
}

TEST(UsageOf, NegativeOrNonIntegerCountIsAnErrorNamingTheAttribute) {
  auto error = NoError();
  Usage u = UsageOf({{"gen_ai.usage.output_tokens", int64_t{-3}}}, &error);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "attributes.gen_ai.usage.output_tokens");
  EXPECT_FALSE(u.output_tokens.has_value());
  error.reset();
  UsageOf({{"gen_ai.usage.prompt_tokens", std::string("12")}}, &error);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "attributes.gen_ai.usage.prompt_tokens");
}

TEST(ParseUsd, ExactDecimalsBecomeNanoUsd) {
  EXPECT_EQ(ParseUsd("0.0123").value(), 12'300'000);
  EXPECT_EQ(ParseUsd("12").value(), 12'000'000'000);
  EXPECT_EQ(ParseUsd("0.000000001").value(), 1);
  EXPECT_EQ(ParseUsd("1e-3").value(), 1'000'000);
  EXPECT_EQ(ParseUsd("2.5E+2").value(), 250'000'000'000);
  EXPECT_EQ(ParseUsd(" 0.1 ").value(), 100'000'000);
  EXPECT_EQ(ParseUsd("0").value(), 0);
  EXPECT_EQ(ParseUsd(".5").value(), 500'000'000);
}

TEST(ParseUsd, MoreThanNineDecimalsRoundsHalfAwayFromZero) {
  EXPECT_EQ(ParseUsd("0.0000000015").value(), 2);
  EXPECT_EQ(ParseUsd("0.0000000014999").value(), 1);
  EXPECT_EQ(ParseUsd("1e-30").value(), 0);
}

TEST(ParseUsd, RejectsWhatIsNotAnAmount) {
  EXPECT_FALSE(ParseUsd("").ok());
  EXPECT_FALSE(ParseUsd("-1").ok());
  EXPECT_FALSE(ParseUsd("abc").ok());
  EXPECT_FALSE(ParseUsd("1.2.3").ok());
  EXPECT_FALSE(ParseUsd("1e").ok());
  EXPECT_FALSE(ParseUsd("1e400").ok());
  EXPECT_FALSE(ParseUsd("99999999999").ok());  // > int64 nano-USD
  EXPECT_FALSE(ParseUsd("nan").ok());
}

TEST(RoleOf, LeafOperationsAreStepsAgentsAreStructurePlainSpansIgnored) {
  EXPECT_EQ(RoleOf(GenAiSpan("1111111111111111", "", "chat")), SpanRole::kStep);
  EXPECT_EQ(RoleOf(GenAiSpan("1111111111111111", "", "execute_tool")), SpanRole::kStep);
  EXPECT_EQ(RoleOf(GenAiSpan("1111111111111111", "", "invoke_agent")), SpanRole::kStructure);
  EXPECT_EQ(RoleOf(GenAiSpan("1111111111111111", "", "invoke_workflow")), SpanRole::kStructure);
  Span remote = GenAiSpan("1111111111111111", "", "invoke_agent");
  remote.kind = SpanKind::kClient;
  EXPECT_EQ(RoleOf(remote), SpanRole::kStep);
  Span http;
  http.attributes["http.request.method"] = std::string("GET");
  EXPECT_EQ(RoleOf(http), SpanRole::kIgnored);
  Span unnamed;
  unnamed.attributes["gen_ai.request.model"] = std::string("gpt-4o");
  EXPECT_EQ(RoleOf(unnamed), SpanRole::kStep);
  EXPECT_EQ(KindOf(unnamed), StepKind::kModelCall);
}

TEST(MapSpans, AgentRunBecomesATreeWithUsageChargedOnceOnTheLeaves) {
  ResourceSpans rs;
  rs.resource_attributes = {{"stepledger.feature", std::string("inbox-triage")},
                            {"stepledger.team", std::string("mail")},
                            {"stepledger.tenant", std::string("acme")},
                            {"stepledger.workload_class", std::string("interactive")},
                            {"deployment.environment.name", std::string("production")}};
  Span agent = GenAiSpan("aaaaaaaaaaaaaaaa", "", "invoke_agent");
  agent.attributes["gen_ai.usage.input_tokens"] = int64_t{100};  // the sum of its children
  Span chat = GenAiSpan("bbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaa", "chat");
  chat.attributes["gen_ai.usage.input_tokens"] = int64_t{100};
  chat.attributes["gen_ai.request.model"] = std::string("gpt-4o");
  chat.attributes["gen_ai.response.model"] = std::string("gpt-4o-2024-08-06");
  chat.attributes["gen_ai.system"] = std::string("openai");
  chat.attributes["stepledger.tenant"] = std::string("globex");  // span wins over resource
  chat.status = SpanStatus::kOk;
  chat.start = absl::FromUnixSeconds(100);
  Span tool = GenAiSpan("cccccccccccccccc", "aaaaaaaaaaaaaaaa", "execute_tool");
  tool.attributes["gen_ai.tool.name"] = std::string("search");
  tool.attributes["stepledger.tool_owner_team"] = std::string("search-infra");
  tool.attributes["stepledger.cost_usd"] = 0.0025;
  rs.spans = {agent, chat, tool};
  Mapping m = MapSpans({rs});
  ASSERT_EQ(m.steps.size(), 3u);
  const Step& root = m.steps[0].step;
  EXPECT_EQ(root.event_id, absl::StrCat("otlp-", kTrace, "-aaaaaaaaaaaaaaaa"));
  EXPECT_EQ(root.step_id, "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(root.parent_step_id, "");
  EXPECT_EQ(root.tags.parent_run_id, kTrace);
  EXPECT_EQ(root.cost_nano_usd, 0);
  EXPECT_FALSE(root.usage.input_uncached_tokens.has_value());
  EXPECT_EQ(root.tags.environment, Environment::kProduction);
  EXPECT_EQ(root.tags.workload_class, WorkloadClass::kInteractive);
  EXPECT_EQ(root.tags.tenant, "acme");
  const Step& c = m.steps[1].step;
  EXPECT_EQ(c.kind, StepKind::kModelCall);
  EXPECT_EQ(c.parent_step_id, "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(c.model, "gpt-4o-2024-08-06");
  EXPECT_EQ(c.provider, "openai");
  EXPECT_EQ(c.tags.tenant, "globex");
  EXPECT_EQ(c.tags.feature, "inbox-triage");
  EXPECT_EQ(c.usage.input_uncached_tokens, 100);
  EXPECT_FALSE(c.cost_nano_usd.has_value());
  EXPECT_EQ(c.status, "ok");
  EXPECT_EQ(c.started_at, absl::FromUnixSeconds(100));
  const Step& t = m.steps[2].step;
  EXPECT_EQ(t.kind, StepKind::kToolCall);
  EXPECT_EQ(t.tool_name, "search");
  EXPECT_EQ(t.tool_owner_team, "search-infra");
  EXPECT_EQ(t.cost_nano_usd, 2'500'000);
  for (const auto& s : m.steps) EXPECT_FALSE(s.conversion_error.has_value());
}

TEST(MapSpans, SpansWithoutGenAiAreSkippedAndChildrenReattachedToNearestStoredAncestor) {
  ResourceSpans rs;
  Span http;
  http.trace_id = kTrace;
  http.span_id = "dddddddddddddddd";
  http.parent_span_id = "aaaaaaaaaaaaaaaa";
  Span root_http = http;
  root_http.span_id = "eeeeeeeeeeeeeeee";
  root_http.parent_span_id = "";
  rs.spans = {GenAiSpan("aaaaaaaaaaaaaaaa", "eeeeeeeeeeeeeeee", "invoke_agent"), http, root_http,
              GenAiSpan("bbbbbbbbbbbbbbbb", "dddddddddddddddd", "chat"),
              GenAiSpan("cccccccccccccccc", "ffffffffffffffff", "chat")};
  Mapping m = MapSpans({rs});
  EXPECT_EQ(m.ignored, 2u);
  ASSERT_EQ(m.steps.size(), 3u);
  EXPECT_EQ(m.steps[0].step.parent_step_id, "");  // its parent is a plain root span
  EXPECT_EQ(m.steps[1].step.parent_step_id, "aaaaaaaaaaaaaaaa");
  EXPECT_EQ(m.steps[2].step.parent_step_id, "ffffffffffffffff");  // not in this request: kept
}

TEST(MapSpans, RunTagNamesTheRunInsteadOfTheTrace) {
  ResourceSpans rs;
  rs.resource_attributes["stepledger.parent_run_id"] = std::string("task-42");
  rs.spans = {GenAiSpan("aaaaaaaaaaaaaaaa", "", "chat")};
  EXPECT_EQ(MapSpans({rs}).steps[0].step.tags.parent_run_id, "task-42");
}

TEST(MapSpans, StepledgerEnvironmentWinsOverDeploymentEnvironment) {
  ResourceSpans rs;
  rs.resource_attributes["deployment.environment.name"] = std::string("production");
  rs.resource_attributes["stepledger.environment"] = std::string("staging");
  rs.spans = {GenAiSpan("aaaaaaaaaaaaaaaa", "", "chat")};
  EXPECT_EQ(MapSpans({rs}).steps[0].step.tags.environment, Environment::kStaging);
}

TEST(MapSpans, MalformedValuesAreConversionErrorsNamingTheField) {
  ResourceSpans rs;
  Span bad_env = GenAiSpan("aaaaaaaaaaaaaaaa", "", "chat");
  bad_env.attributes["deployment.environment.name"] = std::string("dev");
  Span bad_cost = GenAiSpan("bbbbbbbbbbbbbbbb", "", "chat");
  bad_cost.attributes["stepledger.cost_usd"] = std::string("$3");
  Span bad_id = GenAiSpan("0000000000000000", "", "chat");
  rs.spans = {bad_env, bad_cost, bad_id};
  Mapping m = MapSpans({rs});
  ASSERT_EQ(m.steps.size(), 3u);
  ASSERT_TRUE(m.steps[0].conversion_error.has_value());
  EXPECT_EQ(m.steps[0].conversion_error->field, "tags.environment");
  ASSERT_TRUE(m.steps[1].conversion_error.has_value());
  EXPECT_EQ(m.steps[1].conversion_error->field, "attributes.stepledger.cost_usd");
  EXPECT_FALSE(m.steps[1].step.cost_nano_usd.has_value());
  ASSERT_TRUE(m.steps[2].conversion_error.has_value());
  EXPECT_EQ(m.steps[2].conversion_error->field, "span_id");
}

}  // namespace
}  // namespace stepledger::domain::otlp
