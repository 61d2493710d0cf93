// Integration: `stepledger prices load` stores a price version that collectors pick up.
#include <sstream>

#include "absl/time/clock.h"
#include "client/cli/cli_context.h"
#include "client/cli/prices_command.h"
#include "gtest/gtest.h"
#include "server/storage/migrator.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger {
namespace {

TEST(PricesCliTest, LoadStoresTheCatalogOnceAsAPriceVersion) {
  testing::TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  ASSERT_TRUE(storage::ApplyMigrations(db.url()).ok());
  const std::string root = STEPLEDGER_SOURCE_DIR;
  std::vector<std::string> args = {"load", "--catalog",
                                   root + "/catalog/model_prices_and_context_window.json",
                                   "--tool-prices", root + "/catalog/tool_prices.txt",
                                   "--database-url", db.url()};
  client::PricesEnvironment env{.now = absl::Now()};
  for (int round = 0; round < 2; ++round) {
    std::istringstream in;
    std::ostringstream out, err;
    client::CliContext ctx{"127.0.0.1:1", in, out, err};
    EXPECT_EQ(client::RunPrices(ctx, args, env), 0) << err.str();
    EXPECT_NE(out.str().find(round == 0 ? "stored price version" : "unchanged"),
              std::string::npos)
        << out.str();
  }
  EXPECT_EQ(db.Count("SELECT count(*) FROM price_versions"), 1);
  EXPECT_EQ(db.Count("SELECT count(*) FROM price_versions WHERE model_catalog LIKE "
                     "'%claude-sonnet-4%' AND tool_catalog <> ''"),
            1);

  std::istringstream in;
  std::ostringstream out, err;
  client::CliContext ctx{"127.0.0.1:1", in, out, err};
  EXPECT_EQ(client::RunPrices(ctx, {"load", "--database-url", db.url()}, env), 64);
  EXPECT_NE(err.str().find("--catalog"), std::string::npos);
}

}  // namespace
}  // namespace stepledger
