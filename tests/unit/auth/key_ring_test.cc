#include "server/security/key_ring.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/security/api_key.h"
#include "server/security/key_admin.h"
#include "tests/fakes/fake_clock.h"

namespace stepledger::security {
namespace {

using domain::auth::KeyRecord;
using ::testing::HasSubstr;

// In-memory KeyRepository with the contract of storage/pg_key_store.h.
class MemoryKeys final : public domain::auth::KeyRepository {
 public:
  absl::StatusOr<std::vector<KeyRecord>> LoadKeys() override {
    std::vector<KeyRecord> out;
    for (const auto& [id, k] : keys_) out.push_back(k);
    return out;
  }
  absl::Status CreateKey(const KeyRecord& key, std::string_view actor) override {
    audit_.push_back(std::string(actor));
    keys_[key.id] = key;
    return absl::OkStatus();
  }
  absl::StatusOr<KeyRecord> RevokeKey(std::string_view id, std::string_view actor,
                                      std::string_view) override {
    auto it = keys_.find(std::string(id));
    if (it == keys_.end()) return absl::NotFoundError("id");
    it->second.revoked_at = absl::UnixEpoch();
    it->second.revoked_by = std::string(actor);
    return it->second;
  }
  absl::Status RotateKey(std::string_view old_id, absl::Time old_expires_at,
                         const KeyRecord& replacement, std::string_view actor) override {
    keys_[std::string(old_id)].expires_at = old_expires_at;
    return CreateKey(replacement, actor);
  }
  absl::StatusOr<bool> CreateFirstKey(const KeyRecord& key) override {
    if (!keys_.empty()) return false;
    keys_[key.id] = key;
    return true;
  }
  std::vector<std::string> audit_;
  std::map<std::string, KeyRecord> keys_;
};

class KeyRingTest : public ::testing::Test {
 protected:
  domain::auth::Principal Admin() {
    return {.key_id = "feedfeedfeedfeed",
            .name = "root",
            .roles = domain::auth::Bit(domain::auth::Role::kAdmin),
            .scopes = domain::auth::Scopes::All()};
  }
  testing::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  MemoryKeys repo_;
  KeyRing ring_{repo_, clock_};
  KeyAdmin admin_{repo_, ring_, clock_};
};

TEST_F(KeyRingTest, TokensHaveOneFormAndHashesCompareExactly) {
  const KeyToken key = GenerateKey();
  ASSERT_TRUE(ParseToken(key.token).ok());
  EXPECT_EQ(ParseToken(key.token)->secret, key.secret);
  EXPECT_NE(GenerateKey().token, key.token);
  for (std::string bad : {std::string(""), key.token.substr(1), key.token + "0",
                          "slk_" + std::string(16, 'G') + "_" + std::string(64, '0')}) {
    absl::StatusOr<KeyToken> parsed = ParseToken(bad);
    ASSERT_FALSE(parsed.ok());
    EXPECT_TRUE(absl::IsUnauthenticated(parsed.status()));
    if (!bad.empty())
      EXPECT_THAT(std::string(parsed.status().message()), ::testing::Not(HasSubstr(bad)));
  }
  EXPECT_TRUE(SameHash(HashSecret("a"), HashSecret("a")));
  EXPECT_FALSE(SameHash(HashSecret("a"), HashSecret("b")));
  EXPECT_FALSE(SameHash(HashSecret("a"), ""));
}

TEST_F(KeyRingTest, CreatedKeyAuthenticatesAndOnlyItsHashIsStored) {
  absl::StatusOr<CreatedKey> created =
      admin_.Create({.name = "gateway", .roles = {"ingest"}, .scopes = {"tenant:acme"}}, Admin());
  ASSERT_TRUE(created.ok()) << created.status();
  const KeyRecord& stored = repo_.keys_.at(created->record.id);
  EXPECT_EQ(stored.secret_sha256.size(), 32u);
  EXPECT_EQ(stored.created_by, "key:root/feedfeedfeedfeed");
  EXPECT_EQ(created->token.find(stored.secret_sha256), std::string::npos);
  absl::StatusOr<PrincipalPtr> who = ring_.Authenticate(created->token);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ((*who)->name, "gateway");
  EXPECT_TRUE((*who)->Has(domain::auth::Role::kIngest));
  EXPECT_EQ((*who)->Identity(), "key:gateway/" + created->record.id);
  // One changed secret digit is a different key.
  std::string wrong = created->token;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_TRUE(absl::IsUnauthenticated(ring_.Authenticate(wrong).status()));
}

TEST_F(KeyRingTest, RevokedKeyStopsAtTheNextRefreshAndExpiredKeysStopOnTime) {
  absl::StatusOr<CreatedKey> created =
      admin_.Create({.name = "k", .roles = {"check"}, .scopes = {"*"}}, Admin());
  ASSERT_TRUE(created.ok());
  // Revoked through another replica: this ring still has it until it refreshes.
  ASSERT_TRUE(repo_.RevokeKey(created->record.id, "other", "").ok());
  EXPECT_TRUE(ring_.Authenticate(created->token).ok());
  ASSERT_TRUE(ring_.Refresh().ok());
  EXPECT_TRUE(absl::IsUnauthenticated(ring_.Authenticate(created->token).status()));

  absl::StatusOr<CreatedKey> rotating =
      admin_.Create({.name = "r", .roles = {"check"}, .scopes = {"*"}}, Admin());
  ASSERT_TRUE(rotating.ok());
  absl::StatusOr<CreatedKey> rotated =
      admin_.Rotate(rotating->record.id, absl::Minutes(5), "", Admin());
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->record.replaces, rotating->record.id);
  EXPECT_TRUE(ring_.Authenticate(rotating->token).ok());  // within the grace
  EXPECT_TRUE(ring_.Authenticate(rotated->token).ok());
  clock_.Advance(absl::Minutes(5));
  EXPECT_TRUE(absl::IsUnauthenticated(ring_.Authenticate(rotating->token).status()));
  EXPECT_TRUE(ring_.Authenticate(rotated->token).ok());
}

// A key's own ingest rate reaches the principal the limiter reads, and a rotation keeps it.
TEST_F(KeyRingTest, AKeysIngestRateIsItsPrincipalsAndSurvivesRotation) {
  absl::StatusOr<CreatedKey> created = admin_.Create(
      {.name = "gw", .roles = {"ingest"}, .scopes = {"*"}, .ingest_rate = 250}, Admin());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(repo_.keys_.at(created->record.id).ingest_rate, 250);
  absl::StatusOr<PrincipalPtr> who = ring_.Authenticate(created->token);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ((*who)->ingest_rate, 250);
  absl::StatusOr<CreatedKey> rotated =
      admin_.Rotate(created->record.id, absl::ZeroDuration(), "", Admin());
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->record.ingest_rate, 250);
  EXPECT_EQ((*ring_.Authenticate(rotated->token))->ingest_rate, 250);
  // Without one, the principal has none: the collector's --ingest-rate-limit applies.
  absl::StatusOr<CreatedKey> plain =
      admin_.Create({.name = "p", .roles = {"ingest"}, .scopes = {"*"}}, Admin());
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*ring_.Authenticate(plain->token))->ingest_rate.has_value());
}

TEST_F(KeyRingTest, InvalidKeyRequestsNameTheField) {
  const std::vector<std::pair<NewKey, std::string>> cases = {
      {{.name = "", .roles = {"check"}, .scopes = {"*"}}, "name:"},
      {{.name = "k", .roles = {}, .scopes = {"*"}}, "roles:"},
      {{.name = "k", .roles = {"root"}, .scopes = {"*"}}, "role:"},
      {{.name = "k", .roles = {"check"}, .scopes = {}}, "scopes:"},
      {{.name = "k", .roles = {"check"}, .scopes = {"org:x"}}, "scopes:"},
      {{.name = "k", .roles = {"check"}, .scopes = {"*"}, .expires_at = absl::UnixEpoch()},
       "expires_at:"},
      {{.name = "k", .roles = {"ingest"}, .scopes = {"*"}, .ingest_rate = 0}, "ingest_rate:"}};
  for (const auto& [key, field] : cases) {
    absl::StatusOr<CreatedKey> created = admin_.Create(key, Admin());
    ASSERT_TRUE(absl::IsInvalidArgument(created.status())) << field;
    EXPECT_THAT(std::string(created.status().message()), HasSubstr(field));
  }
}

TEST_F(KeyRingTest, BootstrapStoresTheFirstKeyOnly) {
  const KeyToken first = GenerateKey();
  EXPECT_TRUE(*admin_.Bootstrap(first.token));
  absl::StatusOr<PrincipalPtr> who = ring_.Authenticate(first.token);
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE((*who)->Has(domain::auth::Role::kAdmin));
  EXPECT_TRUE((*who)->scopes.all());
  const KeyToken second = GenerateKey();
  EXPECT_FALSE(*admin_.Bootstrap(second.token));
  EXPECT_TRUE(absl::IsUnauthenticated(ring_.Authenticate(second.token).status()));
  absl::StatusOr<bool> bad = admin_.Bootstrap("not-a-key-at-all");
  ASSERT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()), ::testing::Not(HasSubstr("not-a-key")));
}

TEST_F(KeyRingTest, CertificateIdentitiesAuthenticateBySubject) {
  absl::StatusOr<CreatedKey> created = admin_.Create(
      {.name = "batch", .roles = {"ingest"}, .scopes = {"team:search"}, .cert_subject = "CN=b"},
      Admin());
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(created->token.empty());
  absl::StatusOr<PrincipalPtr> who = ring_.AuthenticateCertificate("CN=b");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ((*who)->Identity(), "cert:CN=b");
  EXPECT_TRUE(absl::IsUnauthenticated(ring_.AuthenticateCertificate("CN=c").status()));
}

}  // namespace
}  // namespace stepledger::security
