#include "client/cli/admin_flags.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace stepledger::client {

absl::StatusOr<std::map<std::string, std::string>> ParseAdminFlags(
    const std::vector<std::string>& args, size_t start, const std::set<std::string>& known) {
  std::map<std::string, std::string> flags;
  for (size_t i = start; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") return std::map<std::string, std::string>{{"help", ""}};
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
    }
    if (known.count(name) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    flags[name] = value;
  }
  return flags;
}

absl::StatusOr<std::string> DatabaseUrlFrom(const std::map<std::string, std::string>& flags) {
  if (auto it = flags.find("database-url"); it != flags.end() && !it->second.empty()) {
    return it->second;
  }
  const char* env = std::getenv("STEPLEDGER_DATABASE_URL");
  if (env != nullptr && env[0] != '\0') return std::string(env);
  return absl::InvalidArgumentError(
      "--database-url (or STEPLEDGER_DATABASE_URL) is required: this command reads PostgreSQL "
      "directly");
}

absl::StatusOr<absl::CivilDay> ParseDay(const std::string& text) {
  absl::CivilDay day;
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("expected a day YYYY-MM-DD, got '", text, "'"));
  }
  return day;
}

absl::StatusOr<absl::CivilMonth> ParseMonth(const std::string& text) {
  absl::CivilMonth month;
  if (text.size() != 7 || !absl::ParseCivilTime(text, &month)) {
    return absl::InvalidArgumentError(absl::StrCat("expected a month YYYY-MM, got '", text, "'"));
  }
  return month;
}

absl::StatusOr<int64_t> ParseUsd(const std::string& text) {
  const size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
  auto digits = [](const std::string& s) {
    for (char c : s) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  int64_t units = 0, nanos = 0;
  if (whole.empty() || !digits(whole) || !digits(frac) || frac.size() > 9 || whole.size() > 9 ||
      !absl::SimpleAtoi(whole, &units)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a USD amount like 1234.56, got '", text, "'"));
  }
  frac.append(9 - frac.size(), '0');
  if (!absl::SimpleAtoi(frac, &nanos)) return absl::InvalidArgumentError("bad amount");
  return units * 1'000'000'000 + nanos;
}

}  // namespace stepledger::client
