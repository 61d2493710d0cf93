#include "server/transport/check_response_encoding.h"

#include <bit>
#include <cstring>
#include <string>

#include "absl/time/time.h"
#include "server/transport/budget_convert.h"

namespace stepledger::transport {
namespace {

using domain::budget::CapStatus;
using domain::budget::CheckResult;

// Protobuf wire types used by these two messages.
constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireLengthDelimited = 2;

// Field numbers, as in proto/stepledger/v1/budget.proto.
namespace response_field {
constexpr uint32_t kDecision = 1;
constexpr uint32_t kDecidingScope = 2;
constexpr uint32_t kDecidingCapId = 3;
constexpr uint32_t kReservationId = 4;
constexpr uint32_t kCaps = 5;
constexpr uint32_t kCountersAsOf = 6;
constexpr uint32_t kCountersAge = 7;
constexpr uint32_t kStale = 8;
}  // namespace response_field

namespace status_field {
constexpr uint32_t kSpent = 2;
constexpr uint32_t kReserved = 3;
constexpr uint32_t kAcknowledgedHeadroom = 4;
constexpr uint32_t kRemaining = 5;
constexpr uint32_t kBurnRatePerHour = 6;
constexpr uint32_t kDecision = 10;
constexpr uint32_t kCapId = 11;
constexpr uint32_t kScope = 12;
constexpr uint32_t kKey = 13;
constexpr uint32_t kPeriod = 14;
constexpr uint32_t kLimit = 15;
constexpr uint32_t kAction = 16;
constexpr uint32_t kAlertThresholdBps = 17;
constexpr uint32_t kOwner = 18;
constexpr uint32_t kShadow = 19;
constexpr uint32_t kPeriodStart = 20;
constexpr uint32_t kPeriodEnd = 21;
constexpr uint32_t kProjectedExhaustion = 22;
constexpr uint32_t kStalePolicy = 23;
constexpr uint32_t kStalePolicyApplied = 24;
}  // namespace status_field

// 1 byte per 7 significant bits, without a data-dependent loop (the counting pass runs for
// every field of every cap).
size_t VarintSize(uint64_t v) {
  const int bits = 64 - std::countl_zero(v | 1);
  return static_cast<size_t>((bits * 9 + 64) / 64);
}

// The two passes over a result share one description of its fields (FieldWriter below): the
// first only counts bytes, the second writes them.
class CountingSink {
 public:
  void Varint(uint64_t v) { size_ += VarintSize(v); }
  void Bytes(const char* /*data*/, size_t n) { size_ += n; }
  // A cap status whose size is already known.
  void EmbeddedCapStatus(const CapStatus& /*status*/, size_t n) { size_ += n; }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

class WritingSink {
 public:
  explicit WritingSink(uint8_t* out) : begin_(out), p_(out) {}
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      *p_++ = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    *p_++ = static_cast<uint8_t>(v);
  }
  void Bytes(const char* data, size_t n) {
    std::memcpy(p_, data, n);
    p_ += n;
  }
  // Writes a cap status (of `n` bytes, as CapStatusSize counted).
  void EmbeddedCapStatus(const CapStatus& status, size_t n);
  size_t size() const { return static_cast<size_t>(p_ - begin_); }

 private:
  uint8_t* begin_;
  uint8_t* p_;
};

// proto3 fields with implicit presence: a zero, false or empty value is left out, as protobuf's
// own serializer does.
template <typename Sink>
class FieldWriter {
 public:
  explicit FieldWriter(Sink& sink) : sink_(sink) {}

  // int64 (and enums and int32, sign-extended: a negative int32 takes ten bytes on the wire).
  void Int64(uint32_t field, int64_t v) {
    if (v != 0) PresentInt64(field, v);
  }
  // A field with explicit presence (proto3 `optional`): written even when zero.
  void PresentInt64(uint32_t field, int64_t v) {
    Tag(field, kWireVarint);
    sink_.Varint(static_cast<uint64_t>(v));
  }
  void Bool(uint32_t field, bool v) {
    if (v) PresentInt64(field, 1);
  }
  void String(uint32_t field, const std::string& s) {
    if (s.empty()) return;
    Tag(field, kWireLengthDelimited);
    sink_.Varint(s.size());
    sink_.Bytes(s.data(), s.size());
  }
  // The header of an embedded message of `size` bytes; its fields follow.
  void MessageHeader(uint32_t field, size_t size) {
    Tag(field, kWireLengthDelimited);
    sink_.Varint(size);
  }

 private:
  void Tag(uint32_t field, uint32_t wire_type) { sink_.Varint((field << 3) | wire_type); }

  Sink& sink_;
};

// In field-number order, as protobuf serializes, so the bytes equal its output exactly.
template <typename Sink>
void WriteCapStatus(const CapStatus& status, Sink& sink) {
  namespace f = status_field;
  const domain::budget::Cap& cap = *status.cap;
  FieldWriter<Sink> w(sink);
  w.Int64(f::kSpent, status.spent);
  w.Int64(f::kReserved, status.reserved);
  w.Int64(f::kAcknowledgedHeadroom, status.acknowledged_headroom);
  w.Int64(f::kRemaining, status.remaining);
  w.Int64(f::kBurnRatePerHour, status.burn_rate_per_hour);
  w.Int64(f::kDecision, ToProto(status.decision));
  w.String(f::kCapId, cap.id);
  w.Int64(f::kScope, ToProto(cap.scope));
  w.String(f::kKey, cap.key);
  w.Int64(f::kPeriod, ToProto(cap.period));
  w.Int64(f::kLimit, cap.limit_nano_usd);
  w.Int64(f::kAction, ToProto(cap.action));
  w.Int64(f::kAlertThresholdBps, cap.alert_threshold_bps);
  w.String(f::kOwner, cap.owner);
  w.Bool(f::kShadow, cap.shadow);
  // Whole seconds, as ToProto: period bounds are midnights, a projection an estimate.
  w.Int64(f::kPeriodStart, absl::ToUnixSeconds(status.period_start));
  w.Int64(f::kPeriodEnd, absl::ToUnixSeconds(status.period_end));
  if (status.projected_exhaustion.has_value()) {
    w.PresentInt64(f::kProjectedExhaustion, absl::ToUnixSeconds(*status.projected_exhaustion));
  }
  w.Int64(f::kStalePolicy, ToProto(cap.stale_policy));
  w.Bool(f::kStalePolicyApplied, status.stale_policy_applied);
}

void WritingSink::EmbeddedCapStatus(const CapStatus& status, size_t /*n*/) {
  WriteCapStatus(status, *this);
}

size_t CapStatusSize(const CapStatus& status) {
  CountingSink counter;
  WriteCapStatus(status, counter);
  return counter.size();
}

// `caps` are the statuses to write, in result.caps' order, with their CapStatusSize.
template <typename Sink>
void WriteResponse(const CheckResult& result, const absl::InlinedVector<AnsweredCapStatus, 8>& caps,
                   Sink& sink) {
  namespace f = response_field;
  FieldWriter<Sink> w(sink);
  w.Int64(f::kDecision, ToProto(result.decision));
  w.Int64(f::kDecidingScope, ToProto(result.deciding_scope));
  w.String(f::kDecidingCapId, result.deciding_cap_id);
  w.String(f::kReservationId, result.reservation_id);
  for (const AnsweredCapStatus& cap : caps) {
    // An embedded message is written even when empty (a CapStatus always has its cap_id).
    w.MessageHeader(f::kCaps, cap.size);
    sink.EmbeddedCapStatus(*cap.status, cap.size);
  }
  // As ToProto: a never-read engine reports neither time nor age, only `stale`.
  if (result.counters_as_of.has_value()) {
    w.Int64(f::kCountersAsOf, absl::ToUnixMillis(*result.counters_as_of));
    w.Int64(f::kCountersAge, absl::ToInt64Milliseconds(result.counters_age));
  }
  w.Bool(f::kStale, result.stale);
}

}  // namespace

CheckResponseEncoder::CheckResponseEncoder(const CheckResult& result, AnsweredCaps caps)
    : result_(result) {
  for (const CapStatus& status : result.caps) {
    // Cap ids are unique, so at most one status is the deciding one; an ALLOW names none.
    if (caps == AnsweredCaps::kOnlyDecidingCap &&
        (result.deciding_cap_id.empty() || status.cap->id != result.deciding_cap_id)) {
      continue;
    }
    caps_.push_back({&status, CapStatusSize(status)});
  }
  CountingSink counter;
  WriteResponse(result, caps_, counter);
  size_ = counter.size();
}

size_t CheckResponseEncoder::EncodeTo(uint8_t* out) const {
  WritingSink writer(out);
  WriteResponse(result_, caps_, writer);
  return writer.size();
}

}  // namespace stepledger::transport
