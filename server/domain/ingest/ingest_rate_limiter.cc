#include "server/domain/ingest/ingest_rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stepledger::domain::ingest {
namespace {

// The payload's type URL; its value is the delay in nanoseconds, in decimal.
constexpr absl::string_view kRetryDelayUrl = "stepledger.dev/retry-delay-nanos";

}  // namespace

RateLimit DefaultRateLimit(int events_per_second, int burst) {
  if (events_per_second <= 0) return {};
  return {
      .events_per_second = static_cast<double>(events_per_second),
      .burst = burst > 0 ? static_cast<double>(burst) : std::max(2.0 * events_per_second, 1000.0)};
}

absl::Status IngestRateLimiter::Take(absl::string_view credential, int64_t events,
                                     std::optional<int64_t> own_rate) {
  const RateLimit limit =
      own_rate.has_value() ? DefaultRateLimit(static_cast<int>(*own_rate), 0) : limit_;
  if (limit.events_per_second <= 0 || events <= 0) return absl::OkStatus();
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = buckets_.try_emplace(credential, Bucket{limit.burst, now});
  Bucket& b = it->second;
  if (!inserted && now > b.updated) {
    b.tokens = b.tokens + absl::ToDoubleSeconds(now - b.updated) * limit.events_per_second;
    b.updated = now;
  }
  b.tokens = std::min(limit.burst, b.tokens);  // Also when the limit shrank since.
  const double needed = std::min(static_cast<double>(events), limit.burst);
  if (b.tokens >= needed) {
    b.tokens -= static_cast<double>(events);
    return absl::OkStatus();
  }
  // At least a millisecond, so that a client honouring the delay does not spin.
  const absl::Duration wait =
      std::max(absl::Milliseconds(1), absl::Seconds((needed - b.tokens) / limit.events_per_second));
  return WithRetryDelay(
      absl::ResourceExhaustedError(absl::StrCat(
          "ingest rate limit of this credential exceeded (", limit.events_per_second,
          " events/s, burst ", limit.burst, "); nothing of this request was stored: retry in ",
          absl::FormatDuration(absl::Ceil(wait, absl::Milliseconds(1))))),
      wait);
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  status.SetPayload(kRetryDelayUrl, absl::Cord(absl::StrCat(absl::ToInt64Nanoseconds(delay))));
  return status;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kRetryDelayUrl);
  int64_t nanos = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &nanos)) return std::nullopt;
  return absl::Nanoseconds(nanos);
}

}  // namespace stepledger::domain::ingest
