// PutBudget validate_only and `stepledger budget apply` on top of it, in one process: the real
// BudgetService and BudgetCoordinator over an in-memory repository, on a gRPC server bound to
// 127.0.0.1 port 0. The cap rules (tier defaults, validity) live only in the collector; the CLI
// asks it before changing anything.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "client/cli/budget_command.h"
#include "client/lib/budget_client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/domain/budget/budget_coordinator.h"
#include "server/transport/budget_service.h"
#include "server/transport/work_pool.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/memory_budget_repository.h"
#include "tests/fakes/memory_cap_change_store.h"
#include "tests/fakes/no_auth.h"
#include "tests/unit/budget/budget_test_util.h"

namespace stepledger {
namespace {

using domain::budget::testing::Utc;

constexpr char kCapFile[] = R"({"caps": [
  {"id": "team-search", "scope": "team", "key": "search", "period": "monthly",
   "limit_usd": "$1,250", "owner": "search-leads", "signed_off_by": "cfo"},
  {"id": "org", "scope": "org", "period": "daily", "limit_usd": "2500", "owner": "finance",
   "shadow": true}]})";

class PutBudgetValidateOnlyTest : public ::testing::Test {
 protected:
  PutBudgetValidateOnlyTest() {
    EXPECT_TRUE(coordinator_.Start().ok());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~PutBudgetValidateOnlyTest() override { server_->Shutdown(); }

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

  client::BudgetClient Client() {
    return client::BudgetClient(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  }

  // Runs `stepledger budget ARGS...` against this server.
  int Budget(const std::vector<std::string>& args, std::string* out, std::string* err) {
    std::istringstream in;
    std::ostringstream o, e;
    const int rc = client::RunBudgetCommand(client::CliContext{target(), in, o, e}, args);
    *out = o.str();
    *err = e.str();
    return rc;
  }

  std::string WriteFile(const std::string& text) {
    const std::string path = ::testing::TempDir() + "/caps-" + std::to_string(port_) + ".json";
    std::ofstream(path) << text;
    return path;
  }

  stepledger::testing::FakeClock clock_{Utc(2024, 3, 14, 12)};
  domain::budget::BudgetEngine engine_{clock_};
  stepledger::testing::MemoryBudgetRepository repository_;
  domain::budget::BudgetCoordinator coordinator_{engine_, repository_, clock_, nullptr};
  transport::WorkPool pool_{1, 16};
  stepledger::testing::MemoryCapChangeStore changes_{&repository_};
  domain::budget::CapGovernance governance_{coordinator_, changes_, clock_};
  transport::BudgetService service_{coordinator_, stepledger::testing::NoAuth(), pool_,
                                    &governance_};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(PutBudgetValidateOnlyTest, ReturnsTheCapWithTierDefaultsAndStoresNothing) {
  v1::Cap cap;
  cap.set_id("org");
  cap.set_scope(v1::SCOPE_ORG);
  cap.set_period(v1::PERIOD_DAILY);
  cap.set_limit_nano_usd(5'000'000'000);
  cap.set_owner("finance");
  cap.set_signed_off_by("cfo");
  absl::StatusOr<v1::Cap> checked = Client().Validate(cap);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->key(), "*");
  EXPECT_EQ(checked->action(), v1::CAP_ACTION_REQUIRE_ACK);  // the org tier's default
  EXPECT_EQ(checked->environment(), v1::ENVIRONMENT_PRODUCTION);
  EXPECT_EQ(checked->alert_threshold_bps(), 8000);
  EXPECT_TRUE(coordinator_.ListCaps().empty());

  // A typed sign-off is not one: the cap as it would be stored awaits a second credential's.
  EXPECT_EQ(checked->signed_off_by(), "");
  cap.set_signed_off_by("");
  EXPECT_TRUE(Client().Validate(cap).ok()) << "an enforced cap awaiting sign-off is valid";
}

TEST_F(PutBudgetValidateOnlyTest, ApplyDryRunChangesNothingAndASecondApplyFindsAllUnchanged) {
  const std::string path = WriteFile(kCapFile);
  std::string out, err;
  ASSERT_EQ(Budget({"apply", path, "--by", "alice", "--dry-run"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("dry run: created 2, updated 0, unchanged 0"), std::string::npos) << out;
  EXPECT_TRUE(coordinator_.ListCaps().empty());

  ASSERT_EQ(Budget({"apply", path, "--by", "alice"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("created 2, updated 0, unchanged 0"), std::string::npos) << out;
  EXPECT_EQ(coordinator_.ListCaps().size(), 2u);
  // Defaults left implicit in the file and filled in by the collector compare equal.
  ASSERT_EQ(Budget({"apply", path, "--by", "alice"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("created 0, updated 0, unchanged 2"), std::string::npos) << out;
}

TEST_F(PutBudgetValidateOnlyTest, ApplyRefusesTheWholeFileWhenTheCollectorRefusesOneCap) {
  const std::string path = WriteFile(R"({"caps": [
    {"id": "ok", "scope": "team", "key": "search", "period": "daily", "limit_usd": "1",
     "owner": "o", "signed_off_by": "s"},
    {"id": "bad", "scope": "feature", "key": "Not A Slug", "period": "daily",
     "limit_usd": "1", "owner": "o", "signed_off_by": "s"}]})");
  std::string out, err;
  EXPECT_EQ(Budget({"apply", path, "--by", "alice"}, &out, &err), 65);
  EXPECT_NE(err.find("cap bad: key"), std::string::npos) << err;
  EXPECT_NE(err.find("nothing applied"), std::string::npos) << err;
  EXPECT_TRUE(coordinator_.ListCaps().empty());
}

TEST_F(PutBudgetValidateOnlyTest, UnknownFlagSaysUnknownFlag) {
  std::string out, err;
  EXPECT_EQ(Budget({"list", "--jsn"}, &out, &err), 64);
  EXPECT_NE(err.find("unknown flag --jsn"), std::string::npos) << err;
}

}  // namespace
}  // namespace stepledger
