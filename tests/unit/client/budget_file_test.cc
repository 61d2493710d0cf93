// Thresholds, durations and the declarative cap file of `stepledger budget`
// (client/cli/budget_file.h). No collector, no database.
#include "client/cli/budget_file.h"

#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace stepledger::client {
namespace {

constexpr int64_t kNano = 1'000'000'000;

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
  EXPECT_EQ(caps->front().key(), "");  // the collector fills in "*"
}

TEST(ParseBudgetFileTest, LeavesTheCapRulesToTheCollector) {
  // An enforced cap without sign-off and a key that is no slug parse: the collector refuses
  // them (PutBudget validate_only, before `budget apply` changes anything), so the rules live
  // in one place.
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(R"({"caps": [{"id": "a",
    "scope": "feature", "key": "Not A Slug", "period": "daily", "limit_usd": "1",
    "owner": "o"}]})");
  ASSERT_TRUE(caps.ok()) << caps.status();
  EXPECT_EQ(caps->front().key(), "Not A Slug");
  EXPECT_EQ(caps->front().signed_off_by(), "");
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
      {R"({"caps": [{"id": "a", "scope": "feature", "key": "f", "period": "daily",
         "limit_usd": "1", "owner": "o", "signed_off_by": "s", "stale_policy": "allow"}]})",
       "caps[0].stale_policy"},
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
  // Caps as ListBudgets returns them: every default filled in by the collector.
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(R"({"caps": [
    {"id": "z", "scope": "tenant", "key": "acme:eu-1", "period": "monthly", "limit_usd": "0.5",
     "threshold_pct": "82.05", "owner": "o", "signed_off_by": "s", "environment": "staging",
     "action": "alert", "stale_policy": "answer"},
    {"id": "a", "scope": "org", "key": "*", "period": "daily", "limit_usd": "2500",
     "owner": "o", "shadow": true, "environment": "production", "action": "require_ack",
     "threshold_pct": 80, "stale_policy": "require_ack"}]})");
  ASSERT_TRUE(caps.ok()) << caps.status();
  const std::string text = FormatBudgetFile(*caps);
  absl::StatusOr<std::vector<v1::Cap>> again = ParseBudgetFile(text);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << text;
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[0].id(), "a");  // sorted by id
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals((*again)[0], (*caps)[1]));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals((*again)[1], (*caps)[0]));
}

TEST(ParseBudgetFileTest, AStalePolicyLeftOutIsTheActionsDefaultAndNamedOnesAreKept) {
  absl::StatusOr<std::vector<v1::Cap>> caps = ParseBudgetFile(kTeamCap);
  ASSERT_TRUE(caps.ok()) << caps.status();
  EXPECT_EQ(caps->front().stale_policy(), v1::STALE_POLICY_UNSPECIFIED);  // the service's default
  for (const auto& [text, policy] : std::vector<std::pair<std::string, v1::StalePolicy>>{
           {"answer", v1::STALE_POLICY_ANSWER},
           {"alert", v1::STALE_POLICY_ALERT},
           {"require_ack", v1::STALE_POLICY_REQUIRE_ACK},
           {"default", v1::STALE_POLICY_UNSPECIFIED}}) {
    absl::StatusOr<v1::StalePolicy> parsed = ParseStalePolicyName(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(*parsed, policy) << text;
  }
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
    team |= c.scope() == v1::SCOPE_TEAM;
    tenant |= c.scope() == v1::SCOPE_TENANT;
    org |= c.scope() == v1::SCOPE_ORG;
    shadow |= c.shadow();
  }
  EXPECT_TRUE(feature && team && tenant && org && shadow);
}

}  // namespace
}  // namespace stepledger::client
