// Forwards write-group events to the metrics and logs failures, at most once per interval per
// status code, so an outage is visible in the logs without flooding them.
#ifndef STEPLEDGER_SERVER_APP_COMMIT_LOG_OBSERVER_H_
#define STEPLEDGER_SERVER_APP_COMMIT_LOG_OBSERVER_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/domain/ingest/group_committer.h"

namespace stepledger::app {

class CommitLogObserver final : public domain::ingest::CommitObserver {
 public:
  // REQUIRES: every observer outlives this object.
  explicit CommitLogObserver(std::vector<domain::ingest::CommitObserver*> next)
      : next_(std::move(next)) {}

  void OnGroupCommitted(absl::Span<const domain::ingest::IngestItem* const> items,
                        absl::Span<const domain::ingest::Outcome> outcomes,
                        absl::Duration latency) override {
    for (auto* o : next_) o->OnGroupCommitted(items, outcomes, latency);
    absl::MutexLock lock(&mu_);
    if (failing_) {
      failing_ = false;
      log::Info("write path recovered: groups commit again");
    }
  }

  void OnGroupFailed(const absl::Status& status, size_t events) override {
    for (auto* o : next_) o->OnGroupFailed(status, events);
    absl::MutexLock lock(&mu_);
    failing_ = true;
    const absl::Time now = absl::Now();
    if (now - last_logged_ < absl::Seconds(5)) return;
    last_logged_ = now;
    log::Error("write group failed; its batches were not acked",
               {{"code", absl::StatusCodeToString(status.code())},
                {"events", std::to_string(events)},
                {"error", std::string(status.message())}});
  }

 private:
  const std::vector<domain::ingest::CommitObserver*> next_;
  absl::Mutex mu_;
  absl::Time last_logged_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_COMMIT_LOG_OBSERVER_H_
