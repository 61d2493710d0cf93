#include "server/security/key_admin.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/security/api_key.h"

namespace stepledger::security {
namespace {

constexpr size_t kMaxName = 128;
constexpr size_t kMaxNote = 1024;
constexpr size_t kMaxSubject = 1024;

bool Printable(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

absl::Status Validate(const NewKey& key, absl::Time now) {
  if (key.name.empty() || key.name.size() > kMaxName || !Printable(key.name)) {
    return absl::InvalidArgumentError("name: 1..128 printable characters required");
  }
  if (absl::StatusOr<domain::auth::RoleSet> r = domain::auth::ParseRoles(key.roles); !r.ok()) {
    return r.status();
  }
  absl::StatusOr<domain::auth::Scopes> scopes = domain::auth::Scopes::Parse(key.scopes);
  if (!scopes.ok()) return scopes.status();
  if (scopes->empty()) {
    return absl::InvalidArgumentError(
        "scopes: at least one is required (\"*\", team:NAME, feature:NAME or tenant:NAME)");
  }
  if (key.expires_at.has_value() && *key.expires_at <= now) {
    return absl::InvalidArgumentError("expires_at: must be in the future");
  }
  if (key.cert_subject.size() > kMaxSubject || !Printable(key.cert_subject)) {
    return absl::InvalidArgumentError("cert_subject: at most 1024 printable characters");
  }
  if (key.note.size() > kMaxNote) return absl::InvalidArgumentError("note: at most 1024 bytes");
  if (key.ingest_rate.has_value() &&
      (*key.ingest_rate < 1 || *key.ingest_rate > kMaxKeyIngestRate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ingest_rate: 1..", kMaxKeyIngestRate, " events per second"));
  }
  return absl::OkStatus();
}

}  // namespace

KeyAdmin::KeyAdmin(domain::auth::KeyRepository& repository, KeyRing& ring,
                   const domain::Clock& clock)
    : repository_(repository), ring_(ring), clock_(clock) {}

absl::StatusOr<CreatedKey> KeyAdmin::Create(const NewKey& key,
                                            const domain::auth::Principal& actor) {
  const absl::Time now = clock_.Now();
  if (absl::Status s = Validate(key, now); !s.ok()) return s;
  CreatedKey out{.record = {.name = key.name,
                            .cert_subject = key.cert_subject,
                            .roles = key.roles,
                            .scopes = key.scopes,
                            .created_at = now,
                            .created_by = actor.Identity(),
                            .expires_at = key.expires_at,
                            .note = key.note,
                            .ingest_rate = key.ingest_rate}};
  if (key.cert_subject.empty()) {
    KeyToken token = GenerateKey();
    out.record.id = token.id;
    out.record.secret_sha256 = HashSecret(token.secret);
    out.token = std::move(token.token);
  } else {
    out.record.id = GenerateCertificateId();
  }
  if (absl::Status s = repository_.CreateKey(out.record, actor.Identity()); !s.ok()) return s;
  ring_.Refresh().IgnoreError();  // Other replicas see it within their refresh interval anyway.
  return out;
}

absl::StatusOr<std::vector<domain::auth::KeyRecord>> KeyAdmin::List() {
  return repository_.LoadKeys();
}

absl::StatusOr<CreatedKey> KeyAdmin::Rotate(std::string_view id, absl::Duration grace,
                                            std::string_view note,
                                            const domain::auth::Principal& actor) {
  if (grace < absl::ZeroDuration() || grace > kMaxRotationGrace) {
    return absl::InvalidArgumentError("grace: 0 to 30 days");
  }
  if (note.size() > kMaxNote) return absl::InvalidArgumentError("note: at most 1024 bytes");
  absl::StatusOr<std::vector<domain::auth::KeyRecord>> keys = repository_.LoadKeys();
  if (!keys.ok()) return keys.status();
  const domain::auth::KeyRecord* old = nullptr;
  for (const auto& k : *keys) {
    if (k.id == id) old = &k;
  }
  if (old == nullptr)
    return absl::NotFoundError(absl::StrCat("id: no key \"", std::string(id), "\""));
  if (!old->cert_subject.empty()) {
    return absl::FailedPreconditionError(
        "id: a certificate identity has no secret to rotate; issue a new certificate");
  }
  const absl::Time now = clock_.Now();
  KeyToken token = GenerateKey();
  CreatedKey out{.record = {.id = token.id,
                            .name = old->name,
                            .secret_sha256 = HashSecret(token.secret),
                            .roles = old->roles,
                            .scopes = old->scopes,
                            .created_at = now,
                            .created_by = actor.Identity(),
                            .expires_at = old->expires_at,
                            .replaces = old->id,
                            .note = std::string(note),
                            .ingest_rate = old->ingest_rate},
                 .token = std::move(token.token)};
  if (absl::Status s = repository_.RotateKey(id, now + grace, out.record, actor.Identity());
      !s.ok()) {
    return s;
  }
  ring_.Refresh().IgnoreError();
  return out;
}

absl::StatusOr<domain::auth::KeyRecord> KeyAdmin::Revoke(std::string_view id, std::string_view note,
                                                         const domain::auth::Principal& actor) {
  if (note.size() > kMaxNote) return absl::InvalidArgumentError("note: at most 1024 bytes");
  absl::StatusOr<domain::auth::KeyRecord> revoked =
      repository_.RevokeKey(id, actor.Identity(), note);
  if (revoked.ok()) ring_.Refresh().IgnoreError();
  return revoked;
}

absl::StatusOr<bool> KeyAdmin::Bootstrap(std::string_view token) {
  absl::StatusOr<KeyToken> parsed = ParseToken(token);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        "bootstrap admin key: not a stepledger API key (slk_<16 hex>_<64 hex>)");
  }
  const domain::auth::KeyRecord record{.id = parsed->id,
                                       .name = "bootstrap-admin",
                                       .secret_sha256 = HashSecret(parsed->secret),
                                       .roles = {"admin"},
                                       .scopes = {"*"},
                                       .created_at = clock_.Now(),
                                       .created_by = "bootstrap",
                                       .note = "stored at first start"};
  absl::StatusOr<bool> created = repository_.CreateFirstKey(record);
  if (created.ok()) ring_.Refresh().IgnoreError();
  return created;
}

}  // namespace stepledger::security
