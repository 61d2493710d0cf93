#include "server/domain/ingest/ingest_rate_limiter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_clock.h"

namespace stepledger::domain::ingest {
namespace {

using ::testing::HasSubstr;

class IngestRateLimiterTest : public ::testing::Test {
 protected:
  testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
};

TEST_F(IngestRateLimiterTest, BurstPassesThenTheWaitIsWhatTheRateRefills) {
  IngestRateLimiter limiter(clock_, {.events_per_second = 100, .burst = 1000});
  EXPECT_TRUE(limiter.Take("key:a/1", 600).ok());
  EXPECT_TRUE(limiter.Take("key:a/1", 400).ok());
  const absl::Status refused = limiter.Take("key:a/1", 500);
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("ingest rate limit"));
  EXPECT_EQ(RetryDelayOf(refused), absl::Seconds(5));  // 500 events at 100/s
  // A refusal takes nothing: after the wait the same request passes.
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(limiter.Take("key:a/1", 500).ok());
}

TEST_F(IngestRateLimiterTest, EachCredentialHasItsOwnBucket) {
  IngestRateLimiter limiter(clock_, {.events_per_second = 10, .burst = 100});
  EXPECT_TRUE(limiter.Take("key:noisy/1", 100).ok());
  EXPECT_FALSE(limiter.Take("key:noisy/1", 1).ok());
  EXPECT_TRUE(limiter.Take("key:quiet/2", 100).ok());
}

TEST_F(IngestRateLimiterTest, ARequestLargerThanTheBurstPassesFromAFullBucketAndLeavesDebt) {
  IngestRateLimiter limiter(clock_, {.events_per_second = 100, .burst = 1000});
  EXPECT_TRUE(limiter.Take("k", 3000).ok());
  // 2,000 events of debt plus 1 needed: 20.01 s at 100/s.
  const std::optional<absl::Duration> wait = RetryDelayOf(limiter.Take("k", 1));
  ASSERT_TRUE(wait.has_value());
  EXPECT_NEAR(absl::ToDoubleSeconds(*wait), 20.01, 1e-6);
  clock_.Advance(absl::Seconds(30));  // refills to 1,000 - 2,000 + 3,000 = capped at 1,000
  EXPECT_TRUE(limiter.Take("k", 1000).ok());
  EXPECT_FALSE(limiter.Take("k", 1).ok());
}

TEST_F(IngestRateLimiterTest, ZeroRateIsNoLimit) {
  IngestRateLimiter limiter(clock_, DefaultRateLimit(0, 0));
  EXPECT_FALSE(limiter.enabled());
  EXPECT_TRUE(limiter.Take("k", 1'000'000).ok());
}

// A key's own rate (keys create --ingest-rate) replaces the flag's for that key only, with the
// default burst, and applies with the flag off too.
TEST_F(IngestRateLimiterTest, AKeysOwnRateReplacesTheCollectorsLimitForThatKey) {
  IngestRateLimiter off(clock_, DefaultRateLimit(0, 0));
  EXPECT_TRUE(off.Take("key:own/1", 1000, 10).ok());  // burst max(2 x 10, 1000)
  const absl::Status refused = off.Take("key:own/1", 50, 10);
  EXPECT_TRUE(absl::IsResourceExhausted(refused)) << refused;
  EXPECT_EQ(RetryDelayOf(refused), absl::Seconds(5));  // 50 events at 10/s
  EXPECT_THAT(refused.message(), HasSubstr("10 events/s"));
  EXPECT_TRUE(off.Take("key:flag/2", 1'000'000).ok());  // no rate of its own: the flag's (off)

  IngestRateLimiter on(clock_, {.events_per_second = 100, .burst = 1000});
  EXPECT_TRUE(on.Take("key:big/3", 4000, 2000).ok());  // its own burst: 4,000
  EXPECT_TRUE(on.Take("key:flag/2", 1000).ok());
  EXPECT_FALSE(on.Take("key:flag/2", 1).ok());
}

TEST_F(IngestRateLimiterTest, DefaultBurstHoldsTheLargestBatch) {
  EXPECT_EQ(DefaultRateLimit(10, 0).burst, 1000);
  EXPECT_EQ(DefaultRateLimit(5000, 0).burst, 10000);
  EXPECT_EQ(DefaultRateLimit(5000, 300).burst, 300);
}

TEST(RetryDelayTest, RoundTripsThroughTheStatusAndIsAbsentOtherwise) {
  EXPECT_EQ(RetryDelayOf(WithRetryDelay(absl::ResourceExhaustedError("x"), absl::Milliseconds(7))),
            absl::Milliseconds(7));
  EXPECT_EQ(RetryDelayOf(absl::ResourceExhaustedError("x")), std::nullopt);
}

}  // namespace
}  // namespace stepledger::domain::ingest
