#include "client/cli/operation_progress.h"

#include <utility>

#include "absl/time/clock.h"

namespace stepledger::client {

absl::StatusOr<v1::Operation> WaitShowingProgress(const CliContext& context,
                                                  const AdminClient& client, std::string_view what,
                                                  absl::StatusOr<v1::Operation> started,
                                                  absl::Duration quiet_for) {
  if (!started.ok()) return started.status();
  const absl::Time start = absl::Now();
  absl::Time last_line = start;
  int64_t units_shown = 0;
  return client.Wait(*std::move(started), [&](const v1::Operation& op) {
    const absl::Time now = absl::Now();
    if (op.units_total() > 0) {
      if (op.units_done() == units_shown) return;
      units_shown = op.units_done();
      context.err << what << ": " << op.units_done() << "/" << op.units_total()
                  << " days done (through " << op.last_unit() << ")\n";
    } else if (!op.done() && now - last_line >= quiet_for) {
      last_line = now;
      context.err << what << ": running, "
                  << absl::FormatDuration(absl::Trunc(now - start, absl::Seconds(1))) << "\n";
    }
  });
}

}  // namespace stepledger::client
