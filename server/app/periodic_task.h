// PeriodicTask: runs `tick` on a thread of its own every `interval` until stopped, for the
// collector's upkeep loops (budget refresh, ledger upkeep, partitions, gauges), so that
// app::Run only wires them.
//
// The first tick runs one interval after the start, or at once with `run_at_start`. A tick
// that takes longer than the interval delays the next one (ticks never overlap). Stop() (also
// the destructor) wakes the waiting thread and joins it after the tick in progress, if any.
//
// Thread safety: Stop() may be called from any thread but the task's own, more than once.
// Lifetime: whatever `tick` uses must outlive Stop().
#ifndef STEPLEDGER_SERVER_APP_PERIODIC_TASK_H_
#define STEPLEDGER_SERVER_APP_PERIODIC_TASK_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace stepledger::app {

class PeriodicTask {
 public:
  // REQUIRES: interval > 0.
  PeriodicTask(absl::Duration interval, std::function<void()> tick, bool run_at_start = false);
  ~PeriodicTask() { Stop(); }

  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Stop();

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace stepledger::app

#endif  // STEPLEDGER_SERVER_APP_PERIODIC_TASK_H_
