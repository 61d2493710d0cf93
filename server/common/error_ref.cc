#include "server/common/error_ref.h"

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace stepledger::errors {

std::string NewRef() {
  thread_local absl::BitGen gen;
  const uint64_t id = absl::Uniform<uint64_t>(gen);
  return absl::StrCat(absl::Hex(id, absl::kZeroPad16));
}

absl::Status Referenced(absl::StatusCode code, absl::string_view phrase, log::Level level,
                        absl::string_view log_msg, std::initializer_list<log::Field> detail) {
  const std::string ref = NewRef();
  // log::Log takes an initializer_list; the ref goes first so that it is easy to grep for.
  std::vector<log::Field> fields;
  fields.reserve(detail.size() + 1);
  fields.emplace_back("ref", ref);
  fields.insert(fields.end(), detail.begin(), detail.end());
  log::LogFields(level, std::string_view(log_msg.data(), log_msg.size()), fields);
  absl::Status status(code, absl::StrCat(phrase, " (ref ", ref, ")"));
  status.SetPayload(kRefPayloadUrl, absl::Cord(ref));
  return status;
}

std::optional<std::string> RefOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kRefPayloadUrl);  // absl::optional
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

}  // namespace stepledger::errors
