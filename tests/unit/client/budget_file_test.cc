// Exact dollar parsing, thresholds, durations and the declarative cap file of `stepledger
// budget` (client/cli/budget_file.h). No collector, no database.
#include "client/cli/budget_file.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

constexpr int64_t kNano = 1'000'000'000;

int64_t Dollars(const std::string& text) {
  absl::StatusOr<int64_t> v = ParseDollars(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status();
  return v.value_or(-1);
}

TEST(ParseDollarsTest, WholeAndFractionalDollarsBecomeExactNanoUsd) {
  EXPECT_EQ(Dollars("12"), 12 * kNano);
  EXPECT_EQ(Dollars("12.5"), 12'500'000'000);
  EXPECT_EQ(Dollars("0.50"), 500'000'000);
  EXPECT_EQ(Dollars("0.000000001"), 1);
  EXPECT_EQ(Dollars("0"), 0);
  EXPECT_EQ(Dollars("007.10"), 7'100'000'000);
}

TEST(ParseDollarsTest, DecimalsThatFloatingPointCannotRepresentAreExact) {
  // 0.1 + 0.2 != 0.3 in binary floating point; in nano-USD it must be.
  EXPECT_EQ(Dollars("0.1") + Dollars("0.2"), Dollars("0.3"));
  EXPECT_EQ(Dollars("1234567.891234567"), 1'234'567'891'234'567);
  EXPECT_EQ(Dollars("0.29"), 290'000'000);  // 0.29 * 1e9 is 289999999.99... as a double
}

TEST(ParseDollarsTest, AcceptsDollarSignThousandsSeparatorsAndSpaces) {
  EXPECT_EQ(Dollars("$1,250.75"), 1'250'750'000'000);
  EXPECT_EQ(Dollars(" 5 "), 5 * kNano);
  EXPECT_EQ(Dollars("1,000,000"), 1'000'000 * kNano);
}

TEST(ParseDollarsTest, TheMaximumIsOneBillionDollars) {
  EXPECT_EQ(Dollars("1000000000"), 1'000'000'000 * kNano);
  EXPECT_FALSE(ParseDollars("1000000000.000000001").ok());
  EXPECT_FALSE(ParseDollars("1000000001").ok());
  EXPECT_FALSE(ParseDollars("99999999999999999999999").ok());  // would overflow int64
}

TEST(ParseDollarsTest, RejectsWhatItCannotRepresentExactlyInsteadOfRounding) {
  EXPECT_FALSE(ParseDollars("0.0000000001").ok());  // 10 decimals: below a nano-dollar
  EXPECT_FALSE(ParseDollars("1.2345678901").ok());
}

TEST(ParseDollarsTest, RejectsMalformedAndNegativeAmounts) {
  for (const char* bad : {"", "$", "-1", "-0.5", "1e3", "12.", ".5", "1.2.3", "abc", "12 USD",
                          "1,25", "12,", ",12", "1,2345", "0x10", "nan", "inf", "1_000"}) {
    EXPECT_FALSE(ParseDollars(bad).ok()) << "\"" << bad << "\" was accepted";
  }
  absl::Status s = ParseDollars("-3").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("negative"), absl::string_view::npos) << s;
}

TEST(FormatNanoUsdTest, PrintsCentsAndOnlyTheSignificantSubCentDigits) {
  EXPECT_EQ(FormatNanoUsd(12'500'000'000), "12.50");
  EXPECT_EQ(FormatNanoUsd(0), "0.00");
  EXPECT_EQ(FormatNanoUsd(1), "0.000000001");
  EXPECT_EQ(FormatNanoUsd(1'234'500'000), "1.2345");
  EXPECT_EQ(FormatNanoUsd(-5 * kNano), "-5.00");
  EXPECT_EQ(FormatNanoUsd(std::numeric_limits<int64_t>::min()), "-9223372036.854775808");
}

TEST(FormatNanoUsdTest, RoundTripsThroughParseDollars) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{999'999'999}, int64_t{40'000'000'000},
                    int64_t{1'234'567'891'234'567}}) {
    EXPECT_EQ(Dollars(FormatNanoUsd(v)), v) << v;
  }
}

TEST(ParseThresholdPctTest, PercentBecomesExactBasisPoints) {
  EXPECT_EQ(ParseThresholdPct("80").value_or(-1), 8000);
  EXPECT_EQ(ParseThresholdPct("82.5").value_or(-1), 8250);
  EXPECT_EQ(ParseThresholdPct("0.01").value_or(-1), 1);
  EXPECT_EQ(ParseThresholdPct("100").value_or(-1), 10000);
  EXPECT_EQ(ParseThresholdPct("90%").value_or(-1), 9000);
  for (const char* bad : {"0", "0.00", "100.01", "101", "80.125", "-5", "", "eighty", "80."}) {
    EXPECT_FALSE(ParseThresholdPct(bad).ok()) << "\"" << bad << "\" was accepted";
  }
  EXPECT_EQ(FormatThresholdPct(8000), "80");
  EXPECT_EQ(FormatThresholdPct(8250), "82.5");
  EXPECT_EQ(FormatThresholdPct(8205), "82.05");
  EXPECT_EQ(FormatThresholdPct(0), "80");  // unset means the default
}

TEST(ParseExpiresInTest, AcceptsHoursMinutesAndDays) {
  EXPECT_EQ(ParseExpiresIn("24h").value_or(absl::ZeroDuration()), absl::Hours(24));
  EXPECT_EQ(ParseExpiresIn("90m").value_or(absl::ZeroDuration()), absl::Minutes(90));
  EXPECT_EQ(ParseExpiresIn("7d").value_or(absl::ZeroDuration()), absl::Hours(24 * 7));
  EXPECT_EQ(ParseExpiresIn("1d12h").value_or(absl::ZeroDuration()), absl::Hours(36));
  EXPECT_EQ(ParseExpiresIn("1h30m").value_or(absl::ZeroDuration()), absl::Minutes(90));
  for (const char* bad : {"", "0h", "-1h", "24", "d", "tomorrow", "inf", "1x"}) {
    EXPECT_FALSE(ParseExpiresIn(bad).ok()) << "\"" << bad << "\" was accepted";
  }
}

TEST(NormalizeCapTest, FillsTheTierDefaultsAsTheServiceDoes) {
  v1::Cap feature, team, tenant, org;
  feature.set_scope(v1::SCOPE_FEATURE);
  team.set_scope(v1::SCOPE_TEAM);
  tenant.set_scope(v1::SCOPE_TENANT);
  org.set_scope(v1::SCOPE_ORG);
  EXPECT_EQ(NormalizeCap(feature).action(), v1::CAP_ACTION_ALERT);
  EXPECT_EQ(NormalizeCap(team).action(), v1::CAP_ACTION_REQUIRE_ACK);
  EXPECT_EQ(NormalizeCap(tenant).action(), v1::CAP_ACTION_ALERT);
  EXPECT_EQ(NormalizeCap(org).action(), v1::CAP_ACTION_REQUIRE_ACK);
  EXPECT_EQ(NormalizeCap(org).key(), "*");
  EXPECT_EQ(NormalizeCap(feature).environment(), v1::ENVIRONMENT_PRODUCTION);
  EXPECT_EQ(NormalizeCap(feature).alert_threshold_bps(), 8000);
  // An explicit choice is kept.
  team.set_action(v1::CAP_ACTION_ALERT);
  EXPECT_EQ(NormalizeCap(team).action(), v1::CAP_ACTION_ALERT);
}

TEST(SameCapTest, DefaultsWrittenOutOrLeftImplicitAreTheSameCap) {
  v1::Cap implicit;
  implicit.set_id("team-x");
  implicit.set_scope(v1::SCOPE_TEAM);
  implicit.set_key("x");
  implicit.set_period(v1::PERIOD_MONTHLY);
  implicit.set_limit_nano_usd(5 * kNano);
  implicit.set_owner("o");
  v1::Cap stored = implicit;
  stored.set_environment(v1::ENVIRONMENT_PRODUCTION);
  stored.set_action(v1::CAP_ACTION_REQUIRE_ACK);
  stored.set_alert_threshold_bps(8000);
  EXPECT_TRUE(SameCap(implicit, stored));
  stored.set_limit_nano_usd(5 * kNano + 1);
  EXPECT_FALSE(SameCap(implicit, stored));
}

constexpr char kTeamCap[] = R"({"caps": [{
  "id": "team-search-monthly", "scope": "team", "key": "search", "period": "monthly",
  "limit_usd": "5000.25", "owner": "search-leads", "signed_off_by": "cfo"}]})";

TEST(ParseBudgetFileTest, ParsesACapWithDefaultsLeftToTheTier) {
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(kTeamCap);
  ASSERT_TRUE(caps.ok()) << caps.status();
  ASSERT_EQ(caps->size(), 1u);
  const v1::Cap& c = caps->front();
  EXPECT_EQ(c.id(), "team-search-monthly");
  EXPECT_EQ(c.scope(), v1::SCOPE_TEAM);
  EXPECT_EQ(c.key(), "search");
  EXPECT_EQ(c.period(), v1::PERIOD_MONTHLY);
  EXPECT_EQ(c.limit_nano_usd(), 5'000'250'000'000);
  EXPECT_EQ(c.action(), v1::CAP_ACTION_UNSPECIFIED);  // the service applies the tier default
  EXPECT_EQ(c.alert_threshold_bps(), 0);
  EXPECT_EQ(c.owner(), "search-leads");
  EXPECT_EQ(c.signed_off_by(), "cfo");
  EXPECT_FALSE(c.shadow());
}

TEST(ParseBudgetFileTest, JsonNumbersAreTakenAsTheDecimalThatWasWritten) {
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(R"({"caps": [
    {"id": "a", "scope": "feature", "key": "f", "period": "daily", "limit_usd": 0.29,
     "threshold_pct": 82.5, "owner": "o", "signed_off_by": "s"},
    {"id": "b", "scope": "feature", "key": "f", "period": "daily", "limit_usd": 1500,
     "owner": "o", "signed_off_by": "s"}]})");
  ASSERT_TRUE(caps.ok()) << caps.status();
  EXPECT_EQ((*caps)[0].limit_nano_usd(), 290'000'000);
  EXPECT_EQ((*caps)[0].alert_threshold_bps(), 8250);
  EXPECT_EQ((*caps)[1].limit_nano_usd(), 1500 * kNano);
}

TEST(ParseBudgetFileTest, JsonNumbersTooLongToBeExactMustBeStrings) {
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(R"({"caps": [
    {"id": "a", "scope": "feature", "key": "f", "period": "daily",
     "limit_usd": 123456.1234567891, "owner": "o", "signed_off_by": "s"}]})");
  ASSERT_FALSE(caps.ok());
  EXPECT_NE(caps.status().message().find("caps[0].limit_usd"), absl::string_view::npos)
      << caps.status();
  EXPECT_NE(caps.status().message().find("string"), absl::string_view::npos) << caps.status();
}

TEST(ParseBudgetFileTest, OrgCapNeedsNoKey) {
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(R"({"caps": [
    {"id": "org", "scope": "org", "period": "daily", "limit_usd": "2500", "owner": "o",
     "signed_off_by": "s"}]})");
  ASSERT_TRUE(caps.ok()) << caps.status();
  EXPECT_EQ(NormalizeCap(caps->front()).key(), "*");
}

TEST(ParseBudgetFileTest, ShadowCapNeedsNoSignOffButAnEnforcedOneDoes) {
  EXPECT_TRUE(ParseBudgetFile(R"({"caps": [{"id": "a", "scope": "feature", "key": "f",
    "period": "daily", "limit_usd": "1", "owner": "o", "shadow": true}]})")
                  .ok());
  absl::StatusOr<std::vector<v1::Cap>> enforced = ParseBudgetFile(R"({"caps": [{"id": "a",
    "scope": "feature", "key": "f", "period": "daily", "limit_usd": "1", "owner": "o"}]})");
  ASSERT_FALSE(enforced.ok());
  EXPECT_NE(enforced.status().message().find("caps[0] (a).signed_off_by"), absl::string_view::npos)
      << enforced.status();
}

// Each bad file and the field its error must name.
struct BadFile {
  const char* text;
  const char* names;
};

TEST(ParseBudgetFileTest, RefusesTheWholeFileNamingTheBadField) {
  const BadFile cases[] = {
      {"not json", "JSON"},
      {"[]", "object"},
      {R"({"caps": {}})", "caps"},
      {R"({"cap": []})", "\"cap\""},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "limt_usd": "1", "owner": "o", "signed_off_by": "s"}]})",
       "unknown field \"limt_usd\""},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "owner": "o", "signed_off_by": "s"}]})",
       "caps[0].limit_usd: required"},
      {R"({"caps": [{"id": "a", "scope": "division", "key": "f", "period": "daily",
         "limit_usd": "1", "owner": "o", "signed_off_by": "s"}]})",
       "caps[0].scope"},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "weekly",
         "limit_usd": "1", "owner": "o", "signed_off_by": "s"}]})",
       "caps[0].period"},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "limit_usd": "-1", "owner": "o", "signed_off_by": "s"}]})",
       "caps[0].limit_usd"},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "limit_usd": "1", "action": "block", "owner": "o", "signed_off_by": "s"}]})",
       "caps[0].action"},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "limit_usd": "1", "threshold_pct": 120, "owner": "o", "signed_off_by": "s"}]})",
       "caps[0].threshold_pct"},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "limit_usd": "1", "owner": "o", "signed_off_by": "s", "shadow": "yes"}]})",
       "caps[0].shadow"},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "Not A Slug", "period": "daily",
         "limit_usd": "1", "owner": "o", "signed_off_by": "s"}]})",
       "caps[0] (a).key"},
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "limit_usd": "1", "owner": "o", "signed_off_by": "s"},
        {"id": "a", "scope": "team", "key": "t", "period": "daily",
         "limit_usd": "1", "owner": "o", "signed_off_by": "s"}]})",
       "caps[1].id: \"a\" appears more than once"},
  };
  for (const BadFile& c : cases) {
    absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(c.text);
    ASSERT_FALSE(caps.ok()) << c.text;
    EXPECT_EQ(caps.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(caps.status().message().find(c.names), absl::string_view::npos)
        << "error for " << c.text << " is \"" << caps.status().message() << "\", expected it to"
        << " mention " << c.names;
  }
}

TEST(ParseBudgetFileTest, ListJsonOutputIsAFileThatApplyAccepts) {
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(R"({"caps": [
    {"id": "z", "scope": "tenant", "key": "acme:eu-1", "period": "monthly", "limit_usd": "0.5",
     "threshold_pct": "82.05", "owner": "o", "signed_off_by": "s", "environment": "staging"},
    {"id": "a", "scope": "org", "period": "daily", "limit_usd": "2500", "owner": "o",
     "shadow": true}]})");
  ASSERT_TRUE(caps.ok()) << caps.status();
  const std::string text = FormatBudgetFile(*caps);
  absl::StatusOr<std::vector<v1::Cap>> again = ParseBudgetFile(text);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[0].id(), "a");  // sorted by id
  EXPECT_TRUE(SameCap((*again)[0], (*caps)[1]));
  EXPECT_TRUE(SameCap((*again)[1], (*caps)[0]));
}

TEST(ParseBudgetFileTest, TheShippedExampleFileIsValidAndCoversEveryTier) {
  const std::string path = std::string(STEPLEDGER_SOURCE_DIR) + "/examples/budgets.json";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(text.str());
  ASSERT_TRUE(caps.ok()) << path << ": " << caps.status();
  bool feature = false, team = false, tenant = false, org = false, shadow = false;
  for (const v1::Cap& c : *caps) {
    feature |= c.scope() == v1::SCOPE_FEATURE && !c.shadow();
    team |= c.scope() == v1::SCOPE_TEAM && NormalizeCap(c).action() == v1::CAP_ACTION_REQUIRE_ACK;
    tenant |= c.scope() == v1::SCOPE_TENANT;
    org |= c.scope() == v1::SCOPE_ORG;
    shadow |= c.shadow();
  }
  EXPECT_TRUE(feature && team && tenant && org && shadow);
}

}  // namespace
}  // namespace stepledger::client
