#include "server/domain/auth/scopes.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stepledger::domain::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Scopes Parse(std::vector<std::string> entries) {
  absl::StatusOr<Scopes> s = Scopes::Parse(entries);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

TEST(ScopesTest, NoScopeAllowsNothing) {
  const Scopes none;
  ASSERT_TRUE(none.Check("search", "triage", "acme").has_value());
  EXPECT_EQ(none.Check("search", "triage", "acme")->field, "scope");
  EXPECT_FALSE(none.Covers("team", "search"));
}

TEST(ScopesTest, StarAllowsEverythingAndCoversOrg) {
  const Scopes all = Parse({"*"});
  EXPECT_FALSE(all.Check("", "", "").has_value());
  EXPECT_TRUE(all.Covers("org", "*"));
}

TEST(ScopesTest, EveryNamedDimensionMustMatch) {
  const Scopes s = Parse({"team:search", "tenant:acme", "tenant:globex"});
  EXPECT_FALSE(s.Check("search", "anything", "acme").has_value());
  EXPECT_FALSE(s.Check("search", "", "globex").has_value());
  const auto wrong_tenant = s.Check("search", "x", "initech");
  ASSERT_TRUE(wrong_tenant.has_value());
  EXPECT_EQ(wrong_tenant->field, "tags.tenant");
  EXPECT_THAT(wrong_tenant->reason, HasSubstr("\"initech\" is outside"));
  const auto wrong_team = s.Check("billing", "x", "acme");
  ASSERT_TRUE(wrong_team.has_value());
  EXPECT_EQ(wrong_team->field, "tags.team");
  const auto missing = s.Check("search", "x", "");
  ASSERT_TRUE(missing.has_value());
  EXPECT_THAT(missing->reason, HasSubstr("missing"));
}

TEST(ScopesTest, CoversOnlyWhenNothingElseNarrows) {
  EXPECT_TRUE(Parse({"team:search"}).Covers("team", "search"));
  EXPECT_FALSE(Parse({"team:search"}).Covers("team", "billing"));
  EXPECT_FALSE(Parse({"team:search"}).Covers("org", "*"));
  // A key for one tenant of team search does not own the whole team's cap.
  EXPECT_FALSE(Parse({"team:search", "tenant:acme"}).Covers("team", "search"));
  EXPECT_TRUE(Parse({"team:search", "tenant:acme"}).Mentions("team", "search"));
}

TEST(ScopesTest, MalformedEntriesAreRefusedNamingThem) {
  for (const char* bad : {"team", "team:", "owner:x", "", "teams:search"}) {
    absl::StatusOr<Scopes> s = Scopes::Parse({bad});
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("scopes:")) << bad;
  }
}

TEST(ScopesTest, EntriesAreWrittenBackSorted) {
  EXPECT_THAT(Parse({"tenant:b", "team:z", "tenant:a", "*"}).Entries(),
              ElementsAre("*", "team:z", "tenant:a", "tenant:b"));
}

}  // namespace
}  // namespace stepledger::domain::auth
