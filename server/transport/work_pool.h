// WorkPool: a fixed set of threads owned by the transport, for work that blocks (database
// reads behind unary callback RPCs such as GetRun). Callback-API reactions never block: they
// hand the blocking part to this pool, and the task finishes the RPC itself.
//
// Bounded: at most `max_queued` tasks wait; TrySchedule refuses more, so a burst of slow
// queries turns into RESOURCE_EXHAUSTED for the caller instead of unbounded memory.
//
// Thread safety: TrySchedule may be called from any thread.
// Lifetime: the destructor stops accepting tasks, runs every task already queued, then joins
// the threads. Tasks must not schedule onto the pool they run on during destruction.
#ifndef STEPLEDGER_SERVER_TRANSPORT_WORK_POOL_H_
#define STEPLEDGER_SERVER_TRANSPORT_WORK_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace stepledger::transport {

class WorkPool {
 public:
  // REQUIRES: threads >= 1, max_queued >= 1.
  WorkPool(int threads, size_t max_queued);
  ~WorkPool();

  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `task` to run on a pool thread. Returns false (and drops the task without running
  // it) when max_queued tasks are already waiting or the pool is stopping.
  bool TrySchedule(std::function<void()> task);

 private:
  void Loop();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_WORK_POOL_H_
