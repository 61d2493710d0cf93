#include "server/catalog/raw_json_entries.h"

#include <cstddef>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace stepledger::catalog {
namespace {

using Json = nlohmann::json;

// Depth counts open containers: 1 inside the top-level object, 2 inside an entry's object.
class Collector final : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return Scalar({RawValue::Kind::kNull, ""}); }
  bool boolean(bool val) override {
    return Scalar({RawValue::Kind::kBool, val ? "true" : "false"});
  }
  bool number_integer(number_integer_t val) override {
    return Scalar({RawValue::Kind::kNumber, std::to_string(val)});
  }
  bool number_unsigned(number_unsigned_t val) override {
    return Scalar({RawValue::Kind::kNumber, std::to_string(val)});
  }
  bool number_float(number_float_t /*val*/, const string_t& s) override {
    return Scalar({RawValue::Kind::kNumber, s});
  }
  bool string(string_t& val) override { return Scalar({RawValue::Kind::kString, val}); }
  bool binary(binary_t& /*val*/) override { return Scalar({RawValue::Kind::kComposite, ""}); }

  bool start_object(std::size_t /*elements*/) override { return Open(/*is_object=*/true); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t /*elements*/) override { return Open(/*is_object=*/false); }
  bool end_array() override { return Close(); }

  bool key(string_t& val) override {
    if (depth_ == 1) {
      if (!names_.insert(val).second) return Fail(absl::StrCat("duplicate entry \"", val, "\""));
      entries_.push_back({val, std::nullopt});
    } else if (depth_ == 2) {
      if (!keys_.insert(val).second) {
        return Fail(
            absl::StrCat("entry \"", entries_.back().name, "\": duplicate key \"", val, "\""));
      }
      key_ = val;
    }
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("malformed JSON at byte ", position, ": ", ex.what()));
    }
    return false;
  }

  absl::StatusOr<std::vector<RawEntry>> Result() && {
    if (!status_.ok()) return status_;
    return std::move(entries_);
  }

 private:
  bool Scalar(RawValue value) {
    if (depth_ == 0) return Fail("top level is not an object");
    // depth 1: the entry's value is not an object, so its fields stay nullopt; inside an entry
    // that is an array there are no keys to record either.
    if (depth_ == 2 && entries_.back().fields) {
      entries_.back().fields->emplace_back(key_, std::move(value));
    }
    return true;
  }

  bool Open(bool is_object) {
    if (depth_ == 0 && !is_object) return Fail("top level is not an object");
    if (depth_ == 1 && is_object) {
      entries_.back().fields.emplace();
      keys_.clear();
    }
    if (depth_ == 2 && entries_.back().fields) {
      entries_.back().fields->emplace_back(key_, RawValue{RawValue::Kind::kComposite, ""});
    }
    ++depth_;
    return true;
  }

  bool Close() {
    --depth_;
    return true;
  }

  bool Fail(std::string message) {
    status_ = absl::InvalidArgumentError(std::move(message));
    return false;
  }

  int depth_ = 0;
  std::vector<RawEntry> entries_;
  absl::flat_hash_set<std::string> names_;
  absl::flat_hash_set<std::string> keys_;  // keys of the current entry
  std::string key_;
  absl::Status status_;
};

}  // namespace

absl::StatusOr<std::vector<RawEntry>> ReadRawJsonEntries(absl::string_view json_text) {
  Collector collector;
  bool ok = Json::sax_parse(json_text.begin(), json_text.end(), &collector);
  absl::StatusOr<std::vector<RawEntry>> result = std::move(collector).Result();
  if (ok && !result.ok()) return result.status();
  if (!ok && result.ok()) return absl::InvalidArgumentError("malformed JSON");
  return result;
}

absl::string_view ToString(RawValue::Kind kind) {
  switch (kind) {
    case RawValue::Kind::kNumber:
      return "number";
    case RawValue::Kind::kString:
      return "string";
    case RawValue::Kind::kBool:
      return "boolean";
    case RawValue::Kind::kNull:
      return "null";
    case RawValue::Kind::kComposite:
      return "object or array";
  }
  return "";
}

}  // namespace stepledger::catalog
