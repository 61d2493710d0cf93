// step_wire.proto must stay a faithful, lenient copy of the API's StepBatch: same field numbers,
// names and wire types, `bytes` where the API has `string`, an entry message where it has a map.
#include <google/protobuf/descriptor.h>

#include <string>

#include "gtest/gtest.h"
#include "stepledger/internal/step_wire.pb.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::transport {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

void ExpectLenientCopy(const Descriptor& api, const Descriptor& wire) {
  SCOPED_TRACE(api.full_name());
  ASSERT_EQ(api.field_count(), wire.field_count()) << "a field was added to one side only";
  for (int i = 0; i < api.field_count(); ++i) {
    const FieldDescriptor& a = *api.field(i);
    const FieldDescriptor* w = wire.FindFieldByNumber(a.number());
    ASSERT_NE(w, nullptr) << a.name() << " has no field number " << a.number() << " in the copy";
    EXPECT_EQ(a.name(), w->name());
    EXPECT_EQ(a.has_presence(), w->has_presence()) << a.name();
    if (a.is_map()) {
      EXPECT_TRUE(w->is_repeated()) << a.name();
      ASSERT_EQ(w->type(), FieldDescriptor::TYPE_MESSAGE) << a.name();
      const Descriptor& entry = *w->message_type();
      EXPECT_EQ(entry.FindFieldByNumber(1)->type(), FieldDescriptor::TYPE_BYTES);
      EXPECT_EQ(entry.FindFieldByNumber(2)->type(), FieldDescriptor::TYPE_BYTES);
      continue;
    }
    EXPECT_EQ(a.is_repeated(), w->is_repeated()) << a.name();
    if (a.type() == FieldDescriptor::TYPE_STRING) {
      EXPECT_EQ(w->type(), FieldDescriptor::TYPE_BYTES) << a.name();
    } else {
      EXPECT_EQ(a.type(), w->type()) << a.name();
    }
    if (a.type() == FieldDescriptor::TYPE_MESSAGE && a.message_type() != w->message_type()) {
      ExpectLenientCopy(*a.message_type(), *w->message_type());
    }
    if (a.type() == FieldDescriptor::TYPE_ENUM) EXPECT_EQ(a.enum_type(), w->enum_type());
  }
}

TEST(StepWireTest, TheLenientBatchMatchesTheApisFieldForField) {
  ExpectLenientCopy(*v1::StepBatch::descriptor(), *internal::WireStepBatch::descriptor());
}

TEST(StepWireTest, AnApiBatchReadsBackLenientlyByteForByte) {
  v1::StepBatch batch;
  batch.set_sequence(7);
  v1::StepEvent* e = batch.add_events();
  e->set_event_id("e-1");
  e->mutable_tags()->set_team("mail-ai");
  e->mutable_tags()->set_environment(v1::ENVIRONMENT_PRODUCTION);
  e->set_cost_nano_usd(0);  // present though zero
  (*e->mutable_attributes())["k"] = "v";
  e->mutable_started_at()->set_seconds(1'700'000'000);
  internal::WireStepBatch wire;
  ASSERT_TRUE(wire.ParseFromString(batch.SerializeAsString()));
  EXPECT_EQ(wire.sequence(), 7u);
  ASSERT_EQ(wire.events_size(), 1);
  EXPECT_EQ(wire.events(0).event_id(), "e-1");
  EXPECT_EQ(wire.events(0).tags().team(), "mail-ai");
  EXPECT_TRUE(wire.events(0).has_cost_nano_usd());
  ASSERT_EQ(wire.events(0).attributes_size(), 1);
  EXPECT_EQ(wire.events(0).attributes(0).key(), "k");
  v1::StepBatch back;
  ASSERT_TRUE(back.ParseFromString(wire.SerializeAsString()));
  EXPECT_EQ(back.SerializeAsString(), batch.SerializeAsString());
}

}  // namespace
}  // namespace stepledger::transport
