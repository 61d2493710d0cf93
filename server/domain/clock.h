// Clock port: everything time-based is handed a Clock and never reads time itself, so tests
// advance a FakeClock instead of sleeping.
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef STEPLEDGER_SERVER_DOMAIN_CLOCK_H_
#define STEPLEDGER_SERVER_DOMAIN_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace stepledger::domain {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace stepledger::domain

#endif  // STEPLEDGER_SERVER_DOMAIN_CLOCK_H_
