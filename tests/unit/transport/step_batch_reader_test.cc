// StepBatchReader: one bad event costs only itself; only a message that is no StepBatch at all
// is refused, naming its sequence.
#include "server/transport/step_batch_reader.h"

#include <grpcpp/support/byte_buffer.h>

#include <nlohmann/json.hpp>
#include <string>

#include "gtest/gtest.h"
#include "server/domain/ingest/text.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {
namespace {

grpc::ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

v1::StepEvent ValidEvent(const std::string& id) {
  v1::StepEvent e;
  e.set_event_id(id);
  e.mutable_tags()->set_feature("inbox-triage");
  e.mutable_tags()->set_team("mail-ai");
  e.mutable_tags()->set_tenant("acme");
  e.mutable_tags()->set_workload_class(v1::WORKLOAD_CLASS_INTERACTIVE);
  e.mutable_tags()->set_environment(v1::ENVIRONMENT_PRODUCTION);
  e.mutable_tags()->set_parent_run_id("run-1");
  e.set_step_id("s-" + id);
  e.set_name("plan");
  e.set_cost_nano_usd(1000);
  return e;
}

// A batch whose second event has bytes ff fe in `name`: the API's reading refuses it whole.
std::string BatchWithBadName() {
  internal::WireStepBatch wire;
  wire.set_sequence(42);
  for (const char* id : {"good-1", "bad", "good-2"}) {
    internal::WireStepEvent* w = wire.add_events();
    w->ParseFromString(ValidEvent(id).SerializeAsString());
    if (std::string(id) == "bad") w->set_name("plan\xff\xfe");
  }
  return wire.SerializeAsString();
}

TEST(StepBatchReaderTest, AValidBatchReadsAsTheApisWithTheUsualDigests) {
  v1::StepBatch batch;
  batch.set_sequence(9);
  *batch.add_events() = ValidEvent("a");
  *batch.add_events() = ValidEvent("b");
  StepBatchReader reader(16 * 1024);
  grpc::ByteBuffer buffer = Buffer(batch.SerializeAsString());
  absl::StatusOr<StepBatchReader::Batch> read = reader.Read(buffer);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->sequence, 9u);
  ASSERT_EQ(read->events.size(), 2u);
  EXPECT_EQ(read->events[1].step.event_id, "b");
  EXPECT_EQ(read->events[1].digest, EventDigest(batch.events(1)));
  EXPECT_FALSE(read->events[1].conversion_error.has_value());
}

TEST(StepBatchReaderTest, OneNonUtf8EventIsReadAsSentAndTheOthersAsUsual) {
  StepBatchReader reader(16 * 1024);
  grpc::ByteBuffer buffer = Buffer(BatchWithBadName());
  absl::StatusOr<StepBatchReader::Batch> read = reader.Read(buffer);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->sequence, 42u);
  ASSERT_EQ(read->events.size(), 3u);
  // The good ones: same digest as if the batch had been valid.
  EXPECT_EQ(read->events[0].digest, EventDigest(ValidEvent("good-1")));
  EXPECT_EQ(read->events[2].digest, EventDigest(ValidEvent("good-2")));
  // The bad one keeps its bytes for validation to name, and renders escaped.
  EXPECT_EQ(read->events[1].step.name, "plan\xff\xfe");
  EXPECT_EQ(read->events[1].digest.size(), 32u);
  const std::string json = read->events[1].as_json();
  EXPECT_TRUE(domain::ingest::IsStorableText(json));
  nlohmann::json parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["name"], "plan\\xff\\xfe");
  EXPECT_EQ(parsed["eventId"], "bad");
}

TEST(StepBatchReaderTest, ATimestampOutsideProtobufsRangeIsAConversionError) {
  for (int64_t seconds : {int64_t{9'400'000'000'000}, int64_t{-220'000'000'000},
                          std::numeric_limits<int64_t>::max()}) {
    v1::StepBatch batch;
    v1::StepEvent* e = batch.add_events();
    *e = ValidEvent("far");
    e->mutable_started_at()->set_seconds(seconds);
    StepBatchReader reader(16 * 1024);
    grpc::ByteBuffer buffer = Buffer(batch.SerializeAsString());
    absl::StatusOr<StepBatchReader::Batch> read = reader.Read(buffer);
    ASSERT_TRUE(read.ok()) << read.status();
    const domain::ingest::ReceivedEvent& event = read->events[0];
    ASSERT_TRUE(event.conversion_error.has_value()) << seconds;
    EXPECT_EQ(event.conversion_error->field, "started_at");
    EXPECT_FALSE(event.step.started_at.has_value());
    nlohmann::json parsed = nlohmann::json::parse(event.as_json());
    EXPECT_EQ(parsed["startedAt"]["seconds"], std::to_string(seconds));
  }
}

TEST(StepBatchReaderTest, NanosOutsideTheirRangeAreAConversionError) {
  v1::StepBatch batch;
  *batch.add_events() = ValidEvent("n");
  batch.mutable_events(0)->mutable_ended_at()->set_seconds(1'700'000'000);
  batch.mutable_events(0)->mutable_ended_at()->set_nanos(-1);
  StepBatchReader reader(16 * 1024);
  grpc::ByteBuffer buffer = Buffer(batch.SerializeAsString());
  absl::StatusOr<StepBatchReader::Batch> read = reader.Read(buffer);
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read->events[0].conversion_error.has_value());
  EXPECT_EQ(read->events[0].conversion_error->field, "ended_at");
}

TEST(StepBatchReaderTest, AMessageThatIsNoBatchIsInvalidArgumentNamingItsSequence) {
  // Sequence 5, then field 2 declared as 100 bytes long with only 3 present.
  std::string bytes = "\x08\x05\x12\x64\x0a\x01x";
  StepBatchReader reader(16 * 1024);
  grpc::ByteBuffer buffer = Buffer(bytes);
  absl::StatusOr<StepBatchReader::Batch> read = reader.Read(buffer);
  ASSERT_TRUE(absl::IsInvalidArgument(read.status())) << read.status();
  // The truncated message has no readable sequence either: said so, not a wrong number.
  EXPECT_NE(read.status().message().find("not a valid StepBatch"), std::string::npos);
}

TEST(StepBatchReaderTest, AnOversizedQuarantinePayloadIsTruncatedButStaysJson) {
  v1::StepBatch batch;
  *batch.add_events() = ValidEvent("big");
  batch.mutable_events(0)->set_name(std::string(100'000, 'n'));
  StepBatchReader reader(4096);
  grpc::ByteBuffer buffer = Buffer(batch.SerializeAsString());
  absl::StatusOr<StepBatchReader::Batch> read = reader.Read(buffer);
  ASSERT_TRUE(read.ok());
  const std::string json = read->events[0].as_json();
  EXPECT_LE(json.size(), 4096u + 64u);
  nlohmann::json parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["truncated"], true);
  EXPECT_GT(parsed["bytes"].get<size_t>(), 100'000u);
}

}  // namespace
}  // namespace stepledger::transport
