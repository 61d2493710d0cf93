// The wire bytes of a v1::CheckBudgetResponse, written straight from a domain CheckResult.
//
// Why not ToProto + SerializeToArray: CheckBudget runs before every expensive agent step, and
// building its answer as a protobuf message costs one arena message per matching cap, a copy of
// three strings per cap, then a size pass and a serialize pass over all of it: about 1 us per
// check in-process (bench/budget_engine_bench.cc, BM_CheckHandler), as much as the decision itself,
// and more under load, where every byte copied is also a cache line taken from the engine. Here
// the fields go from the CheckResult to the output buffer once.
//
// The bytes are exactly those of ToProto(result) serialized by protobuf (fields in number order,
// proto3 defaults left out, `projected_exhaustion_unix_seconds` present whenever set), so any
// client's generated code parses them as before; a unit test holds the two equal field by field.
// With AnsweredCaps::kOnlyDecidingCap they are those of ToProto of the same result with `caps`
// cut to the deciding cap's status.
// A new CapStatus or CheckBudgetResponse field must be added both to ToProto (budget_convert.cc)
// and here; that test fails until it is.
#ifndef STEPLEDGER_SERVER_TRANSPORT_CHECK_RESPONSE_ENCODING_H_
#define STEPLEDGER_SERVER_TRANSPORT_CHECK_RESPONSE_ENCODING_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "server/domain/budget/check.h"

namespace stepledger::transport {

// One cap status of the answer and its encoded size in bytes.
struct AnsweredCapStatus {
  const domain::budget::CapStatus* status;
  size_t size;
};

// Which of the result's cap statuses the answer carries (CheckBudgetRequest.only_deciding_cap).
enum class AnsweredCaps {
  kEveryMatchingCap,  // result.caps, all of them (the default answer)
  kOnlyDecidingCap,   // only the status whose cap id is result.deciding_cap_id (none for ALLOW)
};

// Usage: CheckResponseEncoder encoder(result); buffer of encoder.size(); encoder.EncodeTo(buffer).
// Holds a reference to `result`, which must outlive it.
class CheckResponseEncoder {
 public:
  explicit CheckResponseEncoder(const domain::budget::CheckResult& result,
                                AnsweredCaps caps = AnsweredCaps::kEveryMatchingCap);

  // The encoded size in bytes.
  size_t size() const { return size_; }

  // Writes size() bytes to `out`; returns the number written (always size()).
  size_t EncodeTo(uint8_t* out) const;

 private:
  const domain::budget::CheckResult& result_;
  // The statuses the answer carries, each with its encoded size (needed for its length prefix:
  // counted once, here).
  absl::InlinedVector<AnsweredCapStatus, 8> caps_;
  size_t size_ = 0;
};

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_CHECK_RESPONSE_ENCODING_H_
