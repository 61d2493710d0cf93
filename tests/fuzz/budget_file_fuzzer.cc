// The cap file parser of `stepledger budget apply` (client/cli/budget_file.h). Property: a file
// it accepts, once the defaults the collector would fill are filled, is written back by
// FormatBudgetFile (what `budget list --json` prints) as a file that reads to the same caps.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "client/cli/budget_file.h"
#include "google/protobuf/util/message_differencer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<stepledger::v1::Cap>> caps = stepledger::client::ParseBudgetFile(text);
  if (!caps.ok()) return 0;
  // FormatBudgetFile's REQUIRES: the caps as the collector returns them, defaults filled.
  for (stepledger::v1::Cap& cap : *caps) {
    if (cap.alert_threshold_bps() == 0) cap.set_alert_threshold_bps(8000);
    if (cap.environment() == stepledger::v1::ENVIRONMENT_UNSPECIFIED) {
      cap.set_environment(stepledger::v1::ENVIRONMENT_PRODUCTION);
    }
  }
  const std::string written = stepledger::client::FormatBudgetFile(*caps);
  absl::StatusOr<std::vector<stepledger::v1::Cap>> again =
      stepledger::client::ParseBudgetFile(written);
  if (!again.ok()) {
    std::fprintf(stderr, "formatted caps do not parse: %s\n%s\n",
                 std::string(again.status().message()).c_str(), written.c_str());
    std::abort();
  }
  std::sort(caps->begin(), caps->end(),
            [](const auto& a, const auto& b) { return a.id() < b.id(); });
  bool same = again->size() == caps->size();
  for (size_t i = 0; same && i < caps->size(); ++i) {
    same = google::protobuf::util::MessageDifferencer::Equals((*caps)[i], (*again)[i]);
  }
  if (!same) {
    std::fprintf(stderr, "cap file round trip changed the caps:\n%s\n", written.c_str());
    std::abort();
  }
  return 0;
}
