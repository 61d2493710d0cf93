// JSON Lines <-> StepEvent: one StepEvent per line in protobuf's canonical JSON mapping
// (lowerCamelCase names, enums by name, int64 as strings, RFC 3339 timestamps). The parser
// accepts everything the mapping allows (proto field names too, int64 as numbers) but rejects
// unknown fields, so a misspelt tag is an error instead of a silently missing tag.
//
// Thread safety: the functions are stateless and may be called concurrently.
#ifndef STEPLEDGER_CLIENT_LIB_JSONL_H_
#define STEPLEDGER_CLIENT_LIB_JSONL_H_

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "stepledger/v1/steps.pb.h"

namespace stepledger::client {

// Parses one JSON object into a StepEvent. INVALID_ARGUMENT carries the parser's message.
absl::StatusOr<stepledger::v1::StepEvent> ParseStepEventJson(absl::string_view json);

// Parses a whole JSON Lines stream. Blank (whitespace-only) lines are skipped; a trailing "\r"
// is ignored. The first bad line fails the whole parse with INVALID_ARGUMENT
// "line N: <parser message>" (N counts from 1, blank lines included), so nothing half-parsed
// is ever sent.
absl::StatusOr<std::vector<stepledger::v1::StepEvent>> ParseJsonLines(std::istream& in);
absl::StatusOr<std::vector<stepledger::v1::StepEvent>> ParseJsonLines(absl::string_view text);

// Formats one event as a single line of canonical JSON, without the newline.
absl::StatusOr<std::string> StepEventToJson(const stepledger::v1::StepEvent& event);

// Writes each event as one line. Fails on the first event that cannot be formatted or when the
// stream goes bad.
absl::Status WriteJsonLines(absl::Span<const stepledger::v1::StepEvent> events, std::ostream& out);

}  // namespace stepledger::client

#endif  // STEPLEDGER_CLIENT_LIB_JSONL_H_
