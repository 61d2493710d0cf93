#include "server/common/log.h"

#include <cstdio>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace stepledger::log {
namespace {

absl::Mutex g_mu(absl::kConstInit);

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

// logfmt value: bare when safe, else double-quoted with \" and \\ escaped.
void AppendValue(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
}

template <typename Fields>
void Write(Level level, std::string_view msg, const Fields& fields) {
  std::string line = "ts=";
  line += absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line += " level=";
  line += LevelName(level);
  line += " msg=";
  AppendValue(line, msg);
  for (const auto& [key, value] : fields) {
    line.push_back(' ');
    line.append(key);
    line.push_back('=');
    AppendValue(line, value);
  }
  line.push_back('\n');
  absl::MutexLock lock(&g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

void Log(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  Write(level, msg, fields);
}

void LogFields(Level level, std::string_view msg, const std::vector<Field>& fields) {
  Write(level, msg, fields);
}

}  // namespace stepledger::log
