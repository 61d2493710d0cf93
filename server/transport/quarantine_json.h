// The JSON kept in a quarantine row: the event as the collector received it, readable by a
// person and always storable as jsonb, whatever the client sent.
//
// Rendered from the lenient reading (step_wire.proto) so that nothing the API's reading would
// refuse is lost: text that is not storable is escaped (domain/ingest/text.h), a Timestamp
// outside protobuf's range is shown as {"seconds": ..., "nanos": ...} instead of a date, enums
// by name (or number when unknown). Field names are the API's JSON names (lowerCamelCase), as
// in protobuf's canonical JSON mapping, so a valid event renders much as the API documents it.
//
// Bound: a rendering longer than `max_bytes` is replaced by
// {"truncated": true, "bytes": <full length>, "prefix": "<its first max_bytes / 2 bytes>"},
// so one oversized event cannot fill the quarantine table.
//
// Thread safety: pure function.
#ifndef STEPLEDGER_SERVER_TRANSPORT_QUARANTINE_JSON_H_
#define STEPLEDGER_SERVER_TRANSPORT_QUARANTINE_JSON_H_

#include <cstddef>
#include <string>

#include "stepledger/internal/step_wire.pb.h"

namespace stepledger::transport {

inline constexpr size_t kDefaultMaxQuarantineEventBytes = 16 * 1024;

std::string QuarantineJson(const internal::WireStepEvent& event,
                           size_t max_bytes = kDefaultMaxQuarantineEventBytes);

}  // namespace stepledger::transport

#endif  // STEPLEDGER_SERVER_TRANSPORT_QUARANTINE_JSON_H_
