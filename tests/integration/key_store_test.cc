// Integration: API keys in PostgreSQL (migrations 0015, 0021), the parts the unit tests'
// in-memory repository cannot show: a key's own ingest rate is stored and read back, an absent
// one reads as absent, and the table refuses a rate below 1.
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/storage/migrator.h"
#include "server/storage/pg_key_store.h"
#include "tests/fakes/pg_test_db.h"

namespace stepledger::storage {
namespace {

domain::auth::KeyRecord Key(const std::string& id, std::optional<int64_t> ingest_rate) {
  return {.id = id,
          .name = "gw-" + id,
          .secret_sha256 = std::string(32, '\x01'),
          .roles = {"ingest"},
          .scopes = {"*"},
          .created_at = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())),
          .created_by = "key:root/0000",
          .ingest_rate = ingest_rate};
}

TEST(KeyStoreTest, AKeysIngestRateIsStoredAndReadBack) {
  testing::TestDatabase db;
  ASSERT_FALSE(db.url().empty());
  ASSERT_TRUE(ApplyMigrations(db.url()).ok());
  PgKeyStore store(db.url());
  ASSERT_TRUE(store.CreateKey(Key("00000000000000a1", 250), "key:root/0000").ok());
  ASSERT_TRUE(store.CreateKey(Key("00000000000000a2", std::nullopt), "key:root/0000").ok());
  EXPECT_FALSE(store.CreateKey(Key("00000000000000a3", 0), "key:root/0000").ok());
  absl::StatusOr<std::vector<domain::auth::KeyRecord>> keys = store.LoadKeys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  for (const domain::auth::KeyRecord& k : *keys) {
    if (k.id == "00000000000000a1") {
      EXPECT_EQ(k.ingest_rate, 250);
    } else {
      EXPECT_FALSE(k.ingest_rate.has_value()) << k.id;
    }
  }
}

}  // namespace
}  // namespace stepledger::storage
