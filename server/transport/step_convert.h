// Protobuf <-> domain conversion for steps, and the event digest.
//
// Thread safety: pure functions.
#ifndef STEPLEDGER_SERVER_TRANSPORT_STEP_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_STEP_CONVERT_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "server/domain/ingest/validation.h"
#include "server/domain/step.h"
#include "stepledger/internal/step_wire.pb.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::transport {

// A StepEvent as the domain sees it, and the first field that could not be converted
// faithfully (a Timestamp outside protobuf's range: left unset in `step`, named here).
struct ConvertedStep {
  domain::Step step;
  std::optional<domain::ingest::FieldError> error;
};
// The API's reading and the lenient one (step_wire.proto) convert by the same rules.
ConvertedStep FromWire(const v1::StepEvent& event);
ConvertedStep FromWire(const internal::WireStepEvent& event);
// The same conversion into a default-constructed `step` that the caller already holds where it
// will stay (a step is over 700 bytes: the stream's reader builds each one in place).
void FromWire(const v1::StepEvent& event, domain::Step& step,
              std::optional<domain::ingest::FieldError>& error);

domain::Tags FromProto(const v1::Tags& tags);
// kUnspecified for ENVIRONMENT_UNSPECIFIED and for a value this build does not know; a caller
// that must refuse unknown values checks v1::Environment_IsValid first.
domain::Environment EnvironmentFromProto(v1::Environment v);

// The time a Timestamp names, or nullopt when it breaks protobuf's own rules (outside
// 0001-01-01..9999-12-31, or nanos outside 0..999,999,999). The one home of that rule.
std::optional<absl::Time> TimeFromProto(const google::protobuf::Timestamp& t);
void ToProto(const domain::Tags& tags, v1::Tags* out);
v1::StepKind ToProto(domain::StepKind kind);

// SHA-256 of the event's deterministic protobuf serialization (map entries sorted): the same
// content always gives the same 32 bytes, in any process, whatever order the client wrote maps.
// `scratch` holds the serialization; a caller digesting many events passes the same string to
// each, so that its memory is reused.
std::string EventDigest(const v1::StepEvent& event);
std::string EventDigest(const v1::StepEvent& event, std::string& scratch);

// The deterministic serialization of a message (into `out`, replacing what it held), and
// SHA-256 of bytes (for events only the lenient reading can hold: their digest is over their
// bytes as re-serialized).
std::string DeterministicBytes(const google::protobuf::Message& message);
void DeterministicBytes(const google::protobuf::Message& message, std::string& out);
std::string Sha256(std::string_view bytes);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_STEP_CONVERT_H_
