#include "server/security/key_ring.h"

#include <utility>

#include "server/security/api_key.h"

namespace stepledger::security {
namespace {

absl::Status Unknown() { return absl::UnauthenticatedError("unknown, expired or revoked API key"); }

}  // namespace

absl::StatusOr<domain::auth::Principal> PrincipalOf(const domain::auth::KeyRecord& record) {
  absl::StatusOr<domain::auth::RoleSet> roles = domain::auth::ParseRoles(record.roles);
  if (!roles.ok()) return roles.status();
  absl::StatusOr<domain::auth::Scopes> scopes = domain::auth::Scopes::Parse(record.scopes);
  if (!scopes.ok()) return scopes.status();
  return domain::auth::Principal{
      .key_id = record.cert_subject.empty() ? record.id : "",
      .name = record.cert_subject.empty() ? record.name : record.cert_subject,
      .roles = *roles,
      .scopes = *std::move(scopes),
      .ingest_rate = record.ingest_rate};
}

KeyRing::KeyRing(domain::auth::KeyRepository& repository, const domain::Clock& clock)
    : repository_(repository), clock_(clock) {}

absl::Status KeyRing::Refresh() {
  absl::StatusOr<std::vector<domain::auth::KeyRecord>> records = repository_.LoadKeys();
  if (!records.ok()) return records.status();
  absl::flat_hash_map<std::string, Entry> by_id;
  absl::flat_hash_map<std::string, Entry> by_subject;
  for (const domain::auth::KeyRecord& record : *records) {
    if (record.revoked_at.has_value()) continue;
    absl::StatusOr<domain::auth::Principal> principal = PrincipalOf(record);
    if (!principal.ok()) continue;  // Deny: a key this collector cannot read grants nothing.
    Entry entry{
        .secret_sha256 = record.secret_sha256,
        .expires_at = record.expires_at.value_or(absl::InfiniteFuture()),
        .principal = std::make_shared<const domain::auth::Principal>(*std::move(principal))};
    if (!record.cert_subject.empty()) {
      by_subject.emplace(record.cert_subject, std::move(entry));
    } else if (!record.secret_sha256.empty()) {
      by_id.emplace(record.id, std::move(entry));
    }
  }
  absl::MutexLock lock(&mu_);
  by_id_.swap(by_id);
  by_subject_.swap(by_subject);
  return absl::OkStatus();
}

absl::StatusOr<PrincipalPtr> KeyRing::Check(const Entry* entry) const {
  if (entry == nullptr || entry->expires_at <= clock_.Now()) return Unknown();
  return entry->principal;
}

absl::StatusOr<PrincipalPtr> KeyRing::Authenticate(std::string_view token) const {
  absl::StatusOr<KeyToken> parsed = ParseToken(token);
  if (!parsed.ok()) return parsed.status();
  const std::string hash = HashSecret(parsed->secret);
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_id_.find(parsed->id);
  if (it == by_id_.end() || !SameHash(hash, it->second.secret_sha256)) return Unknown();
  return Check(&it->second);
}

absl::StatusOr<PrincipalPtr> KeyRing::AuthenticateCertificate(std::string_view subject) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = by_subject_.find(std::string(subject));
  if (it == by_subject_.end()) {
    return absl::UnauthenticatedError("client certificate: no active identity for its subject");
  }
  return Check(&it->second);
}

size_t KeyRing::active_keys() const {
  absl::ReaderMutexLock lock(&mu_);
  return by_id_.size() + by_subject_.size();
}

}  // namespace stepledger::security
