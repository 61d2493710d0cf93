// CheckResponseEncoder writes CheckBudget's answer without building the protobuf message; its
// bytes must be exactly protobuf's serialization of ToProto(result), for every field and value
// (zeros left out, negatives, long and non-ASCII strings, a projection at 0 kept), so that every
// client parses the same answer as before.
#include "server/transport/check_response_encoding.h"

#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/transport/budget_convert.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger::transport {
namespace {

using domain::budget::Action;
using domain::budget::Cap;
using domain::budget::CapStatus;
using domain::budget::CheckResult;
using domain::budget::Decision;
using domain::budget::Period;
using domain::budget::Scope;
using domain::budget::StalePolicy;
using domain::budget::testing::kUsd;
using domain::budget::testing::MakeCap;
using domain::budget::testing::Utc;

std::string Encoded(const CheckResult& result,
                    AnsweredCaps caps = AnsweredCaps::kEveryMatchingCap) {
  const CheckResponseEncoder encoder(result, caps);
  std::string bytes(encoder.size(), '\0');
  const size_t written = encoder.EncodeTo(reinterpret_cast<uint8_t*>(bytes.data()));
  EXPECT_EQ(written, encoder.size());
  return bytes;
}

std::string ProtobufBytes(const CheckResult& result) {
  v1::CheckBudgetResponse message;
  ToProto(result, &message);
  return message.SerializeAsString();
}

// Byte equality, and (for a readable failure) the parsed messages compared field by field.
void ExpectSameAsProtobuf(const CheckResult& result) {
  const std::string ours = Encoded(result);
  v1::CheckBudgetResponse expected;
  ToProto(result, &expected);
  v1::CheckBudgetResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(ours)) << "the encoding does not parse";
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(expected, parsed)) << diff;
  EXPECT_EQ(ours, ProtobufBytes(result));
}

CapStatus StatusOf(Cap cap) {
  CapStatus s;
  s.cap = std::make_shared<const Cap>(std::move(cap));
  return s;
}

TEST(CheckResponseEncodingTest, AllowWithoutCapsIsTheDecisionAlone) {
  CheckResult allow;
  EXPECT_EQ(Encoded(allow), std::string("\x08\x01", 2));  // decision (1) = DECISION_ALLOW (1)
  ExpectSameAsProtobuf(allow);
}

TEST(CheckResponseEncodingTest, EveryFieldOfAFullAnswer) {
  Cap team = MakeCap("team-search-monthly", Scope::kTeam, 200 * kUsd, Period::kMonthly);
  team.action = Action::kRequireAck;
  team.alert_threshold_bps = 9000;
  team.shadow = true;
  team.stale_policy = StalePolicy::kRequireAck;
  CapStatus st = StatusOf(team);
  st.spent = 150 * kUsd;
  st.reserved = 2 * kUsd;
  st.acknowledged_headroom = 25 * kUsd;
  st.remaining = 73 * kUsd;
  st.burn_rate_per_hour = 4 * kUsd;
  st.projected_exhaustion = Utc(2024, 3, 15, 6, 15);
  st.period_start = Utc(2024, 3, 1);
  st.period_end = Utc(2024, 4, 1);
  st.decision = Decision::kRequireAck;

  CapStatus feature =
      StatusOf(domain::budget::ApplyCapDefaults(MakeCap("feature-daily", Scope::kFeature, kUsd)));
  feature.spent = 3 * kUsd;
  feature.remaining = -2 * kUsd;  // over: a negative int64 is ten bytes on the wire
  feature.period_start = Utc(2024, 3, 14);
  feature.period_end = Utc(2024, 3, 15);
  feature.decision = Decision::kAlert;

  CapStatus org = StatusOf(MakeCap("org", Scope::kOrg, 1'000'000 * kUsd));
  org.projected_exhaustion = absl::UnixEpoch();  // set, and 0: must still be on the wire

  CheckResult result;
  result.decision = Decision::kAlert;
  result.deciding_scope = Scope::kFeature;
  result.deciding_cap_id = "feature-daily";
  result.reservation_id = "r-1";
  result.caps = {st, feature, org};
  ExpectSameAsProtobuf(result);
  // The same answer from stale counters: their age, the flag and the caps' policies.
  result.caps[0].stale_policy_applied = true;
  result.counters_as_of = Utc(2024, 3, 14, 11, 59, 47) + absl::Milliseconds(250);
  result.counters_age = absl::Milliseconds(13'400);
  result.stale = true;
  ExpectSameAsProtobuf(result);
  {
    v1::CheckBudgetResponse stale;
    ASSERT_TRUE(stale.ParseFromString(Encoded(result)));
    EXPECT_TRUE(stale.stale());
    EXPECT_EQ(stale.counters_age_millis(), 13'400);
    EXPECT_EQ(stale.counters_as_of_unix_millis() % 1000, 250);
    EXPECT_TRUE(stale.caps(0).stale_policy_applied());
    EXPECT_EQ(stale.caps(0).stale_policy(), v1::STALE_POLICY_REQUIRE_ACK);
    EXPECT_EQ(stale.caps(1).stale_policy(), v1::STALE_POLICY_ALERT);
  }
  result.caps[0].stale_policy_applied = false;
  result.counters_as_of.reset();
  result.counters_age = absl::ZeroDuration();
  result.stale = false;

  v1::CheckBudgetResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(Encoded(result)));
  ASSERT_EQ(parsed.caps_size(), 3);
  EXPECT_TRUE(parsed.caps(2).has_projected_exhaustion_unix_seconds());
  EXPECT_FALSE(parsed.caps(1).has_projected_exhaustion_unix_seconds());
  EXPECT_EQ(parsed.caps(1).remaining_nano_usd(), -2 * kUsd);
}

TEST(CheckResponseEncodingTest, LongAndNonAsciiStringsAndExtremeValues) {
  Cap cap = MakeCap(std::string(300, 'c'), Scope::kTenant, std::numeric_limits<int64_t>::max());
  cap.key = "t\xc3\xa9nant-\xe6\x97\xa5\xe6\x9c\xac";  // UTF-8
  cap.owner = std::string(20'000, 'o');                // a three-byte length prefix
  cap.alert_threshold_bps = -1;  // never valid, but the encoding must still match protobuf
  CapStatus st = StatusOf(cap);
  st.spent = std::numeric_limits<int64_t>::min();
  st.reserved = std::numeric_limits<int64_t>::max();
  st.remaining = -1;
  st.period_start = Utc(1970, 1, 1) - absl::Hours(24);  // negative seconds
  st.period_end = Utc(2262, 1, 1);
  CheckResult result;
  result.decision = Decision::kRequireAck;
  result.deciding_scope = Scope::kTenant;
  result.deciding_cap_id = cap.id;
  result.caps = {st};
  ExpectSameAsProtobuf(result);
}

// Random answers, many with zero fields (left out) and empty strings: the bytes always equal
// protobuf's. A field added to ToProto but not to the encoder makes this fail.
TEST(CheckResponseEncodingTest, RandomAnswersMatchProtobufByteForByte) {
  std::mt19937_64 rng(20261128);
  auto maybe = [&](int64_t v) { return rng() % 3 == 0 ? 0 : v; };
  auto any_int64 = [&] { return static_cast<int64_t>(rng()) >> (rng() % 64); };
  auto text = [&](size_t max_len) {
    std::string s(rng() % (max_len + 1), '\0');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
  };
  const Scope scopes[] = {Scope::kUnspecified, Scope::kFeature, Scope::kTeam, Scope::kTenant,
                          Scope::kOrg};
  const Decision decisions[] = {Decision::kAllow, Decision::kAlert, Decision::kRequireAck};
  const StalePolicy stale_policies[] = {StalePolicy::kUnspecified, StalePolicy::kAnswer,
                                        StalePolicy::kAlert, StalePolicy::kRequireAck};
  for (int n = 0; n < 2000; ++n) {
    CheckResult result;
    result.decision = decisions[rng() % 3];
    result.deciding_scope = scopes[rng() % 5];
    result.deciding_cap_id = text(20);
    result.reservation_id = text(40);
    if (rng() % 2 == 0) {
      result.counters_as_of =
          absl::FromUnixMillis(maybe(static_cast<int64_t>(rng() % (1LL << 42))));
      result.counters_age = absl::Milliseconds(maybe(static_cast<int64_t>(rng() % 100'000)));
    }
    result.stale = rng() % 2 == 0;
    const int caps = static_cast<int>(rng() % 7);
    for (int i = 0; i < caps; ++i) {
      Cap cap;
      cap.id = text(200);
      cap.scope = scopes[1 + rng() % 4];
      cap.key = text(30);
      cap.period = rng() % 2 == 0 ? Period::kDaily : Period::kMonthly;
      cap.limit_nano_usd = maybe(any_int64());
      cap.action = rng() % 2 == 0 ? Action::kAlert : Action::kRequireAck;
      cap.alert_threshold_bps = static_cast<int32_t>(maybe(static_cast<int64_t>(rng() % 10001)));
      cap.owner = text(30);
      cap.shadow = rng() % 2 == 0;
      cap.stale_policy = stale_policies[rng() % 4];
      CapStatus st = StatusOf(cap);
      st.stale_policy_applied = rng() % 2 == 0;
      st.spent = maybe(any_int64());
      st.reserved = maybe(any_int64());
      st.acknowledged_headroom = maybe(any_int64());
      st.remaining = maybe(any_int64());
      st.burn_rate_per_hour = maybe(any_int64());
      st.decision = decisions[rng() % 3];
      st.period_start = absl::FromUnixSeconds(maybe(static_cast<int64_t>(rng() % 5'000'000'000)));
      st.period_end = absl::FromUnixSeconds(maybe(static_cast<int64_t>(rng() % 5'000'000'000)));
      if (rng() % 2 == 0) {
        st.projected_exhaustion =
            absl::FromUnixSeconds(maybe(static_cast<int64_t>(rng() % 5'000'000'000)));
      }
      result.caps.push_back(st);
    }
    ASSERT_EQ(Encoded(result), ProtobufBytes(result)) << "random answer " << n;
    // Only the deciding cap: the same bytes as protobuf's for the answer cut to that cap. The
    // deciding id is sometimes one of the caps' (whose ids are distinct), sometimes none.
    if (!result.caps.empty() && rng() % 2 == 0) {
      result.deciding_cap_id = result.caps[rng() % result.caps.size()].cap->id;
    }
    CheckResult cut = result;
    std::erase_if(cut.caps, [&](const CapStatus& st) {
      return result.deciding_cap_id.empty() || st.cap->id != result.deciding_cap_id;
    });
    ASSERT_EQ(Encoded(result, AnsweredCaps::kOnlyDecidingCap), ProtobufBytes(cut))
        << "random answer " << n << ", deciding cap only";
  }
}

// CheckBudgetRequest.only_deciding_cap: the answer keeps everything but the other caps.
TEST(CheckResponseEncodingTest, OnlyTheDecidingCapsStatusWhenAsked) {
  CapStatus feature = StatusOf(MakeCap("feature-daily", Scope::kFeature, kUsd));
  feature.spent = 3 * kUsd;
  feature.decision = Decision::kAlert;
  CapStatus tenant = StatusOf(MakeCap("tenant-monthly", Scope::kTenant, 50 * kUsd));
  tenant.spent = 49 * kUsd;
  tenant.decision = Decision::kRequireAck;
  CapStatus org = StatusOf(MakeCap("org", Scope::kOrg, 1'000'000 * kUsd));
  CheckResult result;
  result.decision = Decision::kRequireAck;
  result.deciding_scope = Scope::kTenant;
  result.deciding_cap_id = "tenant-monthly";
  result.reservation_id = "r-7";
  result.counters_as_of = Utc(2024, 3, 14, 12);
  result.counters_age = absl::Milliseconds(800);
  result.caps = {feature, tenant, org};

  v1::CheckBudgetResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(Encoded(result, AnsweredCaps::kOnlyDecidingCap)));
  ASSERT_EQ(parsed.caps_size(), 1);
  EXPECT_EQ(parsed.caps(0).cap_id(), "tenant-monthly");
  EXPECT_EQ(parsed.caps(0).spent_nano_usd(), 49 * kUsd);
  EXPECT_EQ(parsed.caps(0).decision(), v1::DECISION_REQUIRE_ACK);
  EXPECT_EQ(parsed.decision(), v1::DECISION_REQUIRE_ACK);
  EXPECT_EQ(parsed.deciding_scope(), v1::SCOPE_TENANT);
  EXPECT_EQ(parsed.deciding_cap_id(), "tenant-monthly");
  EXPECT_EQ(parsed.reservation_id(), "r-7");
  EXPECT_EQ(parsed.counters_age_millis(), 800);
  EXPECT_LT(Encoded(result, AnsweredCaps::kOnlyDecidingCap).size(), Encoded(result).size());

  // An ALLOW names no deciding cap: no status at all, however many caps matched.
  result.decision = Decision::kAllow;
  result.deciding_scope = Scope::kUnspecified;
  result.deciding_cap_id.clear();
  ASSERT_TRUE(parsed.ParseFromString(Encoded(result, AnsweredCaps::kOnlyDecidingCap)));
  EXPECT_EQ(parsed.caps_size(), 0);
  EXPECT_EQ(parsed.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(parsed.reservation_id(), "r-7");
}

}  // namespace
}  // namespace stepledger::transport
