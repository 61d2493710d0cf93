// Protobuf <-> domain conversion for steps, and the event digest.
#ifndef STEPLEDGER_SERVER_TRANSPORT_STEP_CONVERT_H_
#define STEPLEDGER_SERVER_TRANSPORT_STEP_CONVERT_H_

#include <string>

#include "server/domain/step.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::transport {

domain::Step FromProto(const v1::StepEvent& event);
domain::Tags FromProto(const v1::Tags& tags);
void ToProto(const domain::Tags& tags, v1::Tags* out);
v1::StepKind ToProto(domain::StepKind kind);

// SHA-256 of the event's deterministic protobuf serialization (map entries sorted): the same
// content always gives the same 32 bytes, in any process, whatever order the client wrote maps.
std::string EventDigest(const v1::StepEvent& event);

// The event in protobuf's canonical JSON mapping (for quarantine rows).
std::string EventJson(const v1::StepEvent& event);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_STEP_CONVERT_H_
