#include "server/transport/quarantine_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <google/protobuf/timestamp.pb.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/domain/ingest/text.h"
#include "server/transport/step_convert.h"

namespace stepledger::transport {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

nlohmann::json Text(const std::string& bytes) { return domain::ingest::EscapeUnstorable(bytes); }

nlohmann::json TimestampJson(const google::protobuf::Timestamp& t) {
  const std::optional<absl::Time> time = TimeFromProto(t);
  if (!time.has_value()) {
    // Not a date: keep the numbers as sent (as text, so no reader rounds an int64).
    return {{"seconds", absl::StrCat(t.seconds())}, {"nanos", t.nanos()}};
  }
  return absl::FormatTime(absl::RFC3339_full, *time, absl::UTCTimeZone());
}

nlohmann::json MessageJson(const Message& message);

nlohmann::json ScalarJson(const Message& m, const Reflection& r, const FieldDescriptor& f,
                          int index) {
  const bool repeated = f.is_repeated();
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return repeated ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f);
    case FieldDescriptor::CPPTYPE_INT64:
      return repeated ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f);
    case FieldDescriptor::CPPTYPE_UINT64:
      return repeated ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f);
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return repeated ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return repeated ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f);
    case FieldDescriptor::CPPTYPE_STRING:
      return Text(repeated ? r.GetRepeatedString(m, &f, index) : r.GetString(m, &f));
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int number = repeated ? r.GetRepeatedEnumValue(m, &f, index) : r.GetEnumValue(m, &f);
      const auto* value = f.enum_type()->FindValueByNumber(number);
      if (value != nullptr) return value->name();
      return number;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = repeated ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f);
      if (const auto* t = dynamic_cast<const google::protobuf::Timestamp*>(&sub)) {
        return TimestampJson(*t);
      }
      return MessageJson(sub);
    }
  }
  return nullptr;
}

nlohmann::json MessageJson(const Message& message) {
  const Reflection& r = *message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r.ListFields(message, &fields);  // set fields only, in field-number order
  nlohmann::json out = nlohmann::json::object();
  for (const FieldDescriptor* f : fields) {
    if (f->message_type() == internal::WireAttribute::descriptor()) {
      // The API's map<string, string>: an object, the last entry for a key winning.
      nlohmann::json map = nlohmann::json::object();
      for (int i = 0; i < r.FieldSize(message, f); ++i) {
        const auto& entry =
            static_cast<const internal::WireAttribute&>(r.GetRepeatedMessage(message, f, i));
        map[domain::ingest::EscapeUnstorable(entry.key())] = Text(entry.value());
      }
      out[f->json_name()] = std::move(map);
    } else if (f->is_repeated()) {
      nlohmann::json list = nlohmann::json::array();
      for (int i = 0; i < r.FieldSize(message, f); ++i)
        list.push_back(ScalarJson(message, r, *f, i));
      out[f->json_name()] = std::move(list);
    } else {
      out[f->json_name()] = ScalarJson(message, r, *f, -1);
    }
  }
  return out;
}

std::string Dump(const nlohmann::json& j) {
  // Every string was escaped to storable text above; `replace` is only a backstop.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string QuarantineJson(const internal::WireStepEvent& event, size_t max_bytes) {
  std::string json = Dump(MessageJson(event));
  if (json.size() <= max_bytes) return json;
  nlohmann::json truncated = {{"truncated", true},
                              {"bytes", json.size()},
                              {"prefix", domain::ingest::EscapeUnstorable(
                                             std::string_view(json).substr(0, max_bytes / 2))}};
  return Dump(truncated);
}

}  // namespace stepledger::transport
