#include "server/app/periodic_task.h"

#include <utility>

namespace stepledger::app {

PeriodicTask::PeriodicTask(absl::Duration interval, std::function<void()> tick, bool run_at_start)
    : thread_([this, interval, tick = std::move(tick), run_at_start] {
        if (run_at_start) tick();
        while (!stop_.WaitForNotificationWithTimeout(interval)) tick();
      }) {}

void PeriodicTask::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

}  // namespace stepledger::app
