// A Clock that only moves when a test says so.
#ifndef STEPLEDGER_TESTS_FAKES_FAKE_CLOCK_H_
#define STEPLEDGER_TESTS_FAKES_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "server/domain/clock.h"

namespace stepledger::testing {

class FakeClock final : public domain::Clock {
 public:
  explicit FakeClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stepledger::testing

#endif  // STEPLEDGER_TESTS_FAKES_FAKE_CLOCK_H_
