// The CLI's JSON Lines reader (client/lib/jsonl.h). Property: what it accepts, it writes back
// (StepEventToJson) as a line it reads again to the same event.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "client/lib/jsonl.h"
#include "google/protobuf/util/message_differencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<stepledger::v1::StepEvent>> events =
      stepledger::client::ParseJsonLines(text);
  if (!events.ok()) return 0;
  for (const stepledger::v1::StepEvent& event : *events) {
    absl::StatusOr<std::string> line = stepledger::client::StepEventToJson(event);
    if (!line.ok()) {
      std::fprintf(stderr, "accepted event does not format: %s\n",
                   std::string(line.status().message()).c_str());
      std::abort();
    }
    absl::StatusOr<stepledger::v1::StepEvent> again = stepledger::client::ParseStepEventJson(*line);
    if (!again.ok() || !google::protobuf::util::MessageDifferencer::Equals(event, *again)) {
      std::fprintf(stderr, "JSON round trip changed the event: %s\n", line->c_str());
      std::abort();
    }
  }
  return 0;
}
