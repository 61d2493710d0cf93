// The CLI's shared flag parsing (client/cli/flags.h): CLI11 underneath, one wording for
// errors, help as a result rather than an exit, and the day/month/time value forms.
#include "client/cli/flags.h"

#include <sstream>

#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

TEST(ParseArgsIntoTest, UnknownFlagAndStrayArgumentAreNamed) {
  CLI::App app("test");
  std::string day;
  app.add_option("--day", day);
  absl::StatusOr<bool> unknown = ParseArgsInto(app, {"--day", "2026-11-28", "--dya", "x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(), "unknown flag --dya");

  CLI::App app2("test");
  app2.add_option("--day", day);
  absl::StatusOr<bool> stray = ParseArgsInto(app2, {"oops"});
  ASSERT_FALSE(stray.ok());
  EXPECT_EQ(stray.status().message(), "unexpected argument 'oops'");
}

TEST(ParseArgsIntoTest, ValuesInBothFormsAndHelpIsReported) {
  CLI::App app("test");
  std::string day;
  bool json = false;
  app.add_option("--day", day);
  app.add_flag("--json", json);
  absl::StatusOr<bool> help = ParseArgsInto(app, {"--day=2026-11-28", "--json"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_FALSE(*help);
  EXPECT_EQ(day, "2026-11-28");
  EXPECT_TRUE(json);

  CLI::App app2("test");
  EXPECT_TRUE(ParseArgsInto(app2, {"--help"}).value_or(false));
}

TEST(ParseFlagsTest, PrintsHelpToOutAndErrorsToErrWithTheExitStatus) {
  CLI::App app("Does a thing.", "stepledger thing");
  std::istringstream in;
  std::ostringstream out, err;
  const CliContext context{"t:1", in, out, err};
  EXPECT_EQ(ParseFlags(app, {"--help"}, context), std::optional<int>(kExitOk));
  EXPECT_NE(out.str().find("Does a thing."), std::string::npos);
  CLI::App app2("Does a thing.", "stepledger thing");
  EXPECT_EQ(ParseFlags(app2, {"--nope"}, context), std::optional<int>(kExitUsage));
  EXPECT_NE(err.str().find("stepledger thing: unknown flag --nope"), std::string::npos)
      << err.str();
}

TEST(ParseTimeArgTest, DatesRfc3339AndAges) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  EXPECT_EQ(ParseTimeArg("--since", "2026-05-01", now).value_or(absl::InfinitePast()),
            absl::FromCivil(absl::CivilDay(2026, 5, 1), absl::UTCTimeZone()));
  EXPECT_EQ(ParseTimeArg("--since", "2026-05-01T12:00:00Z", now).value_or(absl::InfinitePast()),
            absl::FromCivil(absl::CivilHour(2026, 5, 1, 12), absl::UTCTimeZone()));
  EXPECT_EQ(ParseTimeArg("--since", "7d", now).value_or(absl::InfinitePast()),
            now - absl::Hours(24 * 7));
  EXPECT_EQ(ParseTimeArg("--since", "90m", now).value_or(absl::InfinitePast()),
            now - absl::Minutes(90));
  absl::StatusOr<absl::Time> bad = ParseTimeArg("--until", "yesterday", now);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("--until:", 0), 0u);
}

TEST(ParseDayTest, OnlyTheExactForms) {
  EXPECT_TRUE(ParseDay("2026-11-28").ok());
  EXPECT_FALSE(ParseDay("2026-11-31").ok());
  EXPECT_FALSE(ParseDay("2026-1-28").ok());
  EXPECT_TRUE(ParseMonth("2026-11").ok());
  EXPECT_FALSE(ParseMonth("2026-13").ok());
  EXPECT_EQ(DayText(absl::CivilDay(2026, 3, 7)), "2026-03-07");
}

}  // namespace
}  // namespace stepledger::client
