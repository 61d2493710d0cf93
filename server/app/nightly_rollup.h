// The collector's nightly rollup: a thread that ticks a RollupScheduler, rolls up the last
// days under the rollup advisory lock (so with several replicas exactly one does the work),
// and, when a report folder is configured, writes the month-to-date showback report in every
// format there (showback-YYYY-MM.{txt,csv,json,focus.csv,html}) for a static host or mail job.
//
// Thread safety: Start/Stop from the owning thread only. Ownership: the Clock must outlive
// this object. Stop() (or destruction) joins the thread; a rollup in progress finishes first.
#ifndef STEPLEDGER_SERVER_APP_NIGHTLY_ROLLUP_H_
#define STEPLEDGER_SERVER_APP_NIGHTLY_ROLLUP_H_

#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "server/domain/clock.h"
#include "server/domain/reports/rollup_scheduler.h"

namespace stepledger::app {

struct NightlyRollupOptions {
  std::string database_url;
  domain::reports::RollupScheduleOptions schedule;
  std::string report_dir;  // "" = do not write reports
};

// One nightly run: rolls up `days` and writes the reports. OK when another replica holds the
// lock (it does the work).
absl::Status RunNightlyRollup(const NightlyRollupOptions& options,
                              const domain::reports::DayRange& days, absl::Time now);

class NightlyRollup {
 public:
  NightlyRollup(const domain::Clock& clock, NightlyRollupOptions options);
  ~NightlyRollup();
  void Start();
  void Stop();

 private:
  const domain::Clock& clock_;
  const NightlyRollupOptions options_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_NIGHTLY_ROLLUP_H_
