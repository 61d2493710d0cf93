#include "client/lib/jsonl.h"

#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace stepledger::client {
namespace {

// protobuf 3.21 has its own Status type; its codes are the canonical ones too.
absl::Status ToAbslStatus(const google::protobuf::util::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      std::string(status.message().data(), status.message().size()));
}

}  // namespace

absl::StatusOr<stepledger::v1::StepEvent> ParseStepEventJson(absl::string_view json) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // A misspelt tag must fail loudly.
  stepledger::v1::StepEvent event;
  absl::Status parsed = ToAbslStatus(google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &event, options));
  if (!parsed.ok()) return absl::InvalidArgumentError(parsed.message());
  return event;
}

absl::StatusOr<std::vector<stepledger::v1::StepEvent>> ParseJsonLines(std::istream& in) {
  std::vector<stepledger::v1::StepEvent> events;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty()) continue;
    absl::StatusOr<stepledger::v1::StepEvent> event = ParseStepEventJson(trimmed);
    if (!event.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", event.status().message()));
    }
    events.push_back(*std::move(event));
  }
  if (in.bad()) return absl::DataLossError("read error while reading JSON Lines input");
  return events;
}

absl::StatusOr<std::vector<stepledger::v1::StepEvent>> ParseJsonLines(absl::string_view text) {
  std::istringstream in{std::string(text)};
  return ParseJsonLines(in);
}

absl::StatusOr<std::string> StepEventToJson(const stepledger::v1::StepEvent& event) {
  std::string json;
  absl::Status printed = ToAbslStatus(google::protobuf::util::MessageToJsonString(event, &json));
  if (!printed.ok()) return printed;
  return json;
}

absl::Status WriteJsonLines(absl::Span<const stepledger::v1::StepEvent> events, std::ostream& out) {
  for (const stepledger::v1::StepEvent& event : events) {
    absl::StatusOr<std::string> json = StepEventToJson(event);
    if (!json.ok()) return json.status();
    out << *json << '\n';
  }
  out.flush();
  if (!out) return absl::DataLossError("write error while writing JSON Lines output");
  return absl::OkStatus();
}

}  // namespace stepledger::client
