#include "client/lib/jsonl.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(JsonlTest, ParsesCanonicalLinesAndSkipsBlankOnes) {
  const char* text =
      R"({"eventId":"e1","tags":{"feature":"inbox-triage","environment":"ENVIRONMENT_PRODUCTION"},)"
      R"("usage":{"outputTokens":"42"},"costNanoUsd":"1500","startedAt":"2026-11-28T09:00:00Z"})"
      "\n\n   \n"
      R"({"event_id":"e2","kind":"STEP_KIND_RERANK","attempt":2})"
      "\r\n";
  absl::StatusOr<std::vector<v1::StepEvent>> events = ParseJsonLines(text);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  const v1::StepEvent& first = (*events)[0];
  EXPECT_EQ(first.event_id(), "e1");
  EXPECT_EQ(first.tags().environment(), v1::ENVIRONMENT_PRODUCTION);
  EXPECT_EQ(first.usage().output_tokens(), 42);
  EXPECT_FALSE(first.usage().has_input_uncached_tokens()) << "absent counts stay unknown";
  ASSERT_TRUE(first.has_cost_nano_usd());
  EXPECT_EQ(first.cost_nano_usd(), 1500);
  EXPECT_EQ(first.started_at().seconds(), 1795856400);
  EXPECT_EQ((*events)[1].kind(), v1::STEP_KIND_RERANK);
  EXPECT_EQ((*events)[1].attempt(), 2);
  EXPECT_FALSE((*events)[1].has_cost_nano_usd());
}

TEST(JsonlTest, ErrorNamesTheLineCountingBlankLines) {
  const char* text = "{\"eventId\":\"e1\"}\n\n{\"eventId\": \n";
  absl::StatusOr<std::vector<v1::StepEvent>> events = ParseJsonLines(text);
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(events.status().message()), StartsWith("line 3: "));
}

TEST(JsonlTest, UnknownFieldIsAnErrorWithTheParsersMessage) {
  absl::StatusOr<std::vector<v1::StepEvent>> events =
      ParseJsonLines("{\"eventId\":\"e1\",\"tags\":{\"feture\":\"x\"}}\n");
  ASSERT_FALSE(events.ok());
  EXPECT_THAT(std::string(events.status().message()), StartsWith("line 1: "));
  EXPECT_THAT(std::string(events.status().message()), HasSubstr("feture"));
}

TEST(JsonlTest, EmptyInputIsNoEvents) {
  absl::StatusOr<std::vector<v1::StepEvent>> events = ParseJsonLines("\n\n");
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST(JsonlTest, WriteThenParseRoundTrips) {
  v1::StepEvent event;
  event.set_event_id("evt-1");
  event.set_cost_nano_usd(0);  // Present and zero must survive: absent means "price it".
  event.mutable_usage()->set_cache_read_tokens(7);
  (*event.mutable_attributes())["gen_ai.request.model"] = "gpt-4o";
  std::ostringstream out;
  ASSERT_TRUE(WriteJsonLines({event, event}, out).ok());
  EXPECT_THAT(out.str(), HasSubstr("\"costNanoUsd\":\"0\""));

  absl::StatusOr<std::vector<v1::StepEvent>> parsed = ParseJsonLines(out.str());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].SerializeAsString(), event.SerializeAsString());
  EXPECT_TRUE((*parsed)[1].has_cost_nano_usd());
}

}  // namespace
}  // namespace stepledger::client
