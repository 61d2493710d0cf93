// Structured logs to stderr, one logfmt line per event:
//   ts=2026-11-28T11:33:08.123Z level=info msg="collector started" grpc=127.0.0.1:50051
//
// Thread safety: Log() may be called from any thread; lines never interleave.
#ifndef STEPLEDGER_SERVER_COMMON_LOG_H_
#define STEPLEDGER_SERVER_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stepledger::log {

enum class Level { kDebug, kInfo, kWarn, kError };

using Field = std::pair<std::string_view, std::string>;

void Log(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
// The same, for fields put together at run time.
void LogFields(Level level, std::string_view msg, const std::vector<Field>& fields);

inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Log(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Log(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Log(Level::kError, msg, fields);
}

}  // namespace stepledger::log

#endif  // STEPLEDGER_SERVER_COMMON_LOG_H_
