// Integration: a cap's stale policy (migration 0017) is stored and read back by PgBudgetStore, a
// row written without one (by hand, or before the column existed) reads as its action's
// default, and the table refuses fail-closed for an alert-only cap whoever writes it.
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/domain/budget/cap.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_budget_store.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

using domain::budget::Action;
using domain::budget::Cap;
using domain::budget::Scope;
using domain::budget::StalePolicy;
using testing::TestDatabase;

Cap MakeCap(const std::string& id, Scope scope, const std::string& key, StalePolicy policy) {
  Cap cap;
  cap.id = id;
  cap.scope = scope;
  cap.key = key;
  cap.period = domain::budget::Period::kDaily;
  cap.limit_nano_usd = 1'000'000'000;
  cap.owner = "lead";
  cap.signed_off_by = "finance";
  cap.stale_policy = policy;
  return domain::budget::ApplyCapDefaults(cap);
}

class CapStalePolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    ASSERT_TRUE(storage::ApplyMigrations(db_.url()).ok());
  }

  std::map<std::string, Cap> Load() {
    absl::StatusOr<std::vector<Cap>> caps = store_.LoadCaps();
    EXPECT_TRUE(caps.ok()) << caps.status();
    std::map<std::string, Cap> by_id;
    for (Cap& c : caps.value_or(std::vector<Cap>{})) by_id[c.id] = c;
    return by_id;
  }

  TestDatabase db_;
  storage::PgBudgetStore store_{db_.url()};
};

TEST_F(CapStalePolicyTest, StoredPoliciesReadBackAndAMissingOneIsTheActionsDefault) {
  ASSERT_TRUE(
      store_.PutCap(MakeCap("team", Scope::kTeam, "search", StalePolicy::kAnswer), "a", absl::Now())
          .ok());
  ASSERT_TRUE(store_
                  .PutCap(MakeCap("feature", Scope::kFeature, "inbox", StalePolicy::kUnspecified),
                          "a", absl::Now())
                  .ok());
  // Rows written without the column, as an edit by hand or a bulk COPY would.
  db_.Exec(
      "INSERT INTO budgets (id, scope, key, environment, period, limit_nano_usd, action, "
      "alert_threshold_bps, owner, signed_off_by) VALUES "
      "('org', 'org', '*', 'production', 'daily', 5, 'require_ack', 8000, 'o', 's'), "
      "('tenant', 'tenant', 'acme', 'production', 'daily', 5, 'alert', 8000, 'o', 's')");

  std::map<std::string, Cap> caps = Load();
  ASSERT_EQ(caps.size(), 4u);
  EXPECT_EQ(caps["team"].stale_policy, StalePolicy::kAnswer);
  EXPECT_EQ(caps["feature"].stale_policy, StalePolicy::kAlert);  // ApplyCapDefaults by action
  EXPECT_EQ(caps["org"].stale_policy, StalePolicy::kRequireAck);
  EXPECT_EQ(caps["tenant"].stale_policy, StalePolicy::kAlert);
  EXPECT_EQ(db_.Count("SELECT count(*) FROM budget_audit WHERE after->>'stale_policy' = 'answer'"),
            1);
}

TEST_F(CapStalePolicyTest, TheTableRefusesFailClosedForAnAlertCap) {
  EXPECT_THROW(db_.Exec("INSERT INTO budgets (id, scope, key, environment, period, "
                        "limit_nano_usd, action, alert_threshold_bps, owner, signed_off_by, "
                        "stale_policy) VALUES ('f', 'feature', 'inbox', 'production', 'daily', "
                        "5, 'alert', 8000, 'o', 's', 'require_ack')"),
               std::exception);
  EXPECT_THROW(db_.Exec("INSERT INTO budgets (id, scope, key, environment, period, "
                        "limit_nano_usd, action, alert_threshold_bps, owner, signed_off_by, "
                        "stale_policy) VALUES ('t', 'team', 'search', 'production', 'daily', "
                        "5, 'require_ack', 8000, 'o', 's', 'allow')"),
               std::exception);
}

}  // namespace
}  // namespace stepledger
