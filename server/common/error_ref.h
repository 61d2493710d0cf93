// Errors that reach a client say what happened in a stable phrase, never in the words of the
// component that failed; the detail goes to the log once, under a reference id that the client
// is given, so that an operator can find the log line from what the client quotes:
//
//   client:  UNAVAILABLE "database unreachable; retry (ref 3f9c2a7d01e4b658)"
//   log:     level=warn msg="storage error" ref=3f9c2a7d01e4b658 context=... detail=...
//
// The phrases themselves are chosen where an error is classified (storage/pg_status.h for
// database errors, transport/status_convert.h for anything else) and are listed in docs/API.md,
// "Errors". A status made here carries its ref as a payload too, so a later layer can tell it is
// already safe to show and does not log it a second time.
//
// Thread safety: every function may be called from any thread.
#ifndef STEPLEDGER_SERVER_COMMON_ERROR_REF_H_
#define STEPLEDGER_SERVER_COMMON_ERROR_REF_H_

#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/common/log.h"

namespace stepledger::errors {

// The payload type URL under which a status carries its ref.
inline constexpr absl::string_view kRefPayloadUrl = "type.stepledger.dev/error-ref";

// A fresh reference id: 16 lower-case hex digits, random (unique enough to find one log line).
std::string NewRef();

// Logs `log_msg` with `detail` and a new ref at `level`, once, and returns a status with `code`
// whose message is "<phrase> (ref <id>)" and whose payload kRefPayloadUrl holds the id.
// REQUIRES: code != kOk; `phrase` holds nothing a client must not see.
absl::Status Referenced(absl::StatusCode code, absl::string_view phrase, log::Level level,
                        absl::string_view log_msg, std::initializer_list<log::Field> detail);

// The ref a status was given by Referenced(), if any.
std::optional<std::string> RefOf(const absl::Status& status);

}  // namespace stepledger::errors

#endif  // STEPLEDGER_SERVER_COMMON_ERROR_REF_H_
