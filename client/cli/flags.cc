#include "client/cli/flags.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace stepledger::client {

absl::StatusOr<bool> ParseArgsInto(CLI::App& app, const std::vector<std::string>& args) {
  // CLI11 takes a vector in reverse order (it pops arguments from the back).
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return true;
  } catch (const CLI::ExtrasError&) {
    // The arguments nobody declared: name the first one the way every command does.
    for (const std::string& extra : app.remaining(/*recurse=*/true)) {
      return absl::InvalidArgumentError(absl::StartsWith(extra, "-")
                                            ? "unknown flag " + extra
                                            : "unexpected argument '" + extra + "'");
    }
    return absl::InvalidArgumentError("unexpected arguments");
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(e.what());
  }
  return false;
}

std::optional<int> ParseFlags(CLI::App& app, const std::vector<std::string>& args,
                              const CliContext& context) {
  absl::StatusOr<bool> help = ParseArgsInto(app, args);
  if (!help.ok()) {
    context.err << app.get_name() << ": " << help.status().message() << "\nrun `" << app.get_name()
                << " --help` for usage\n";
    return kExitUsage;
  }
  if (*help) {
    context.out << app.help();
    return kExitOk;
  }
  return std::nullopt;
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

std::string DayText(absl::CivilDay d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

absl::StatusOr<absl::Time> ParseTimeArg(const std::string& flag, const std::string& text,
                                        absl::Time now) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err)) return t;
  int64_t days = 0;
  if (absl::EndsWith(text, "d") && absl::SimpleAtoi(text.substr(0, text.size() - 1), &days) &&
      days >= 0) {
    return now - absl::Hours(24 * days);
  }
  absl::Duration age;
  if (absl::ParseDuration(text, &age) && age >= absl::ZeroDuration()) return now - age;
  return absl::InvalidArgumentError(absl::StrCat(
      flag, ": expected a date, an RFC 3339 time or an age like 24h or 7d, got \"", text, "\""));
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace stepledger::client
