// IngestRateLimiter: how many events one credential may ingest per second (docs/SECURITY.md,
// "Ingest rate limit"), so that one client over its share gets RESOURCE_EXHAUSTED with a retry
// delay instead of filling the write path that every client shares.
//
// A token bucket per credential identity (Principal::Identity(): one per API key or
// certificate identity): `burst` tokens when full, refilled at `events_per_second`: the
// collector's limit (--ingest-rate-limit), or the key's own rate when its key has one. A request of
// n events passes when the bucket holds min(n, burst) tokens and then takes all n, so a request
// larger than the burst still passes from a full bucket and the debt it leaves delays the next
// ones: over time a credential never exceeds its rate. A refused request takes nothing and is
// told how long until it would pass; its events are not stored, and not acked, so the client
// re-sends them.
//
// Memory: one bucket per credential that ingested, bounded by the number of stored keys.
// Thread safety: Take() may be called from any thread.
#ifndef STEPLEDGER_SERVER_DOMAIN_INGEST_INGEST_RATE_LIMITER_H_
#define STEPLEDGER_SERVER_DOMAIN_INGEST_INGEST_RATE_LIMITER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"

namespace stepledger::domain::ingest {

struct RateLimit {
  double events_per_second = 0;  // 0: no limit
  double burst = 0;              // REQUIRES: >= 1 when events_per_second > 0
};

// The limit of --ingest-rate-limit and --ingest-burst: a burst of 0 means max(2 x rate, 1000)
// (1,000 being the largest StreamSteps batch).
RateLimit DefaultRateLimit(int events_per_second, int burst);

class IngestRateLimiter {
 public:
  // REQUIRES: `clock` outlives the limiter.
  IngestRateLimiter(const Clock& clock, RateLimit limit) : clock_(clock), limit_(limit) {}

  // Whether the collector-wide limit is on (a key's own rate applies either way).
  bool enabled() const { return limit_.events_per_second > 0; }

  // OK when `credential` may ingest `events` now (and they are counted); otherwise
  // ResourceExhausted saying the rate, carrying the wait (RetryDelayOf). `own_rate`: the
  // credential's own events per second (Principal::ingest_rate, stored with its key), which
  // replaces the collector's limit for it, with the default burst (DefaultRateLimit(rate, 0)).
  absl::Status Take(absl::string_view credential, int64_t events,
                    std::optional<int64_t> own_rate = std::nullopt) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  const Clock& clock_;
  const RateLimit limit_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// A status that tells the client when to retry: status_convert.h turns it into
// google.rpc.RetryInfo, OTLP/HTTP into Retry-After.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

}  // namespace stepledger::domain::ingest

#endif  // STEPLEDGER_SERVER_DOMAIN_INGEST_INGEST_RATE_LIMITER_H_
