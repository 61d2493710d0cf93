#include "server/storage/pg_key_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"

namespace stepledger::storage {
namespace {

constexpr char kSelectKeys[] = R"sql(
SELECT id, name, coalesce(encode(secret_sha256, 'hex'), ''), coalesce(cert_subject, ''),
       array_to_string(roles, E'\n'), array_to_string(scopes, E'\n'),
       (extract(epoch FROM created_at) * 1000000)::bigint, created_by,
       (extract(epoch FROM expires_at) * 1000000)::bigint,
       (extract(epoch FROM revoked_at) * 1000000)::bigint, coalesce(revoked_by, ''),
       coalesce(replaces, ''), note, ingest_rate
  FROM api_keys)sql";

constexpr char kInsertKey[] = R"sql(
INSERT INTO api_keys (id, name, secret_sha256, cert_subject, roles, scopes, created_at,
                      created_by, expires_at, replaces, note, ingest_rate)
VALUES ($1, $2, decode(nullif($3, ''), 'hex'), nullif($4, ''), string_to_array($5, E'\n'),
        string_to_array($6, E'\n'), $7::timestamptz, $8, nullif($9, '')::timestamptz,
        nullif($10, ''), $11, nullif($12, '')::integer))sql";

constexpr char kInsertAudit[] =
    "INSERT INTO key_audit (key_id, action, actor, note) VALUES ($1, $2, $3, $4)";

constexpr char kRevoke[] = R"sql(
UPDATE api_keys SET revoked_at = now(), revoked_by = $2
 WHERE id = $1 AND revoked_at IS NULL)sql";

constexpr char kExpireOld[] = R"sql(
UPDATE api_keys SET expires_at = least(coalesce(expires_at, $2::timestamptz), $2::timestamptz)
 WHERE id = $1 AND revoked_at IS NULL)sql";

// Serializes bootstraps of concurrently starting replicas (an arbitrary constant of ours).
constexpr int64_t kBootstrapLockKey = 0x5354504c4b455953;  // "STPLKEYS"

std::vector<std::string> Lines(const std::string& joined) {
  if (joined.empty()) return {};
  return absl::StrSplit(joined, '\n');
}

std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string BytesToHex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::optional<absl::Time> MicrosOrNull(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return absl::FromUnixMicros(f.as<int64_t>());
}

domain::auth::KeyRecord FromRow(const pqxx::row& row) {
  return domain::auth::KeyRecord{
      .id = row[0].as<std::string>(),
      .name = row[1].as<std::string>(),
      .secret_sha256 = HexToBytes(row[2].as<std::string>()),
      .cert_subject = row[3].as<std::string>(),
      .roles = Lines(row[4].as<std::string>()),
      .scopes = Lines(row[5].as<std::string>()),
      .created_at = absl::FromUnixMicros(row[6].as<int64_t>()),
      .created_by = row[7].as<std::string>(),
      .expires_at = MicrosOrNull(row[8]),
      .revoked_at = MicrosOrNull(row[9]),
      .revoked_by = row[10].as<std::string>(),
      .replaces = row[11].as<std::string>(),
      .note = row[12].as<std::string>(),
      .ingest_rate = row[13].is_null() ? std::nullopt : std::optional(row[13].as<int64_t>())};
}

void Insert(pqxx::work& txn, const domain::auth::KeyRecord& key) {
  txn.exec_params(kInsertKey, key.id, key.name, BytesToHex(key.secret_sha256), key.cert_subject,
                  absl::StrJoin(key.roles, "\n"), absl::StrJoin(key.scopes, "\n"),
                  PgTimestamp(key.created_at), key.created_by,
                  key.expires_at.has_value() ? PgTimestamp(*key.expires_at) : "", key.replaces,
                  key.note, key.ingest_rate ? absl::StrCat(*key.ingest_rate) : std::string());
}

bool IsUniqueViolation() {
  try {
    throw;
  } catch (const pqxx::unique_violation&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

struct PgKeyStore::Reader {
  PgConnection connection;
};

PgKeyStore::PgKeyStore(std::string database_url) : database_url_(std::move(database_url)) {}
PgKeyStore::~PgKeyStore() = default;

absl::StatusOr<std::vector<domain::auth::KeyRecord>> PgKeyStore::LoadKeys() {
  absl::MutexLock lock(&mu_);
  try {
    if (reader_ == nullptr || !reader_->connection.is_open()) {
      reader_ = std::unique_ptr<Reader>(new Reader{PgConnection(database_url_)});
    }
    pqxx::read_transaction txn(reader_->connection);
    pqxx::result rows = txn.exec(kSelectKeys);
    std::vector<domain::auth::KeyRecord> out;
    out.reserve(rows.size());
    for (const pqxx::row& row : rows) out.push_back(FromRow(row));
    return out;
  } catch (...) {
    reader_.reset();  // Reconnect next time.
    return CurrentExceptionToStatus("load api keys");
  }
}

absl::Status PgKeyStore::CreateKey(const domain::auth::KeyRecord& key, std::string_view actor) {
  try {
    PgConnection conn(database_url_);
    pqxx::work txn(conn);
    Insert(txn, key);
    txn.exec_params(kInsertAudit, key.id, "create", std::string(actor), key.note);
    txn.commit();
    return absl::OkStatus();
  } catch (...) {
    if (IsUniqueViolation()) {
      return absl::AlreadyExistsError("cert_subject: another identity already has this subject");
    }
    return CurrentExceptionToStatus("create api key");
  }
}

absl::StatusOr<domain::auth::KeyRecord> PgKeyStore::RevokeKey(std::string_view id,
                                                              std::string_view actor,
                                                              std::string_view note) {
  try {
    PgConnection conn(database_url_);
    pqxx::work txn(conn);
    pqxx::result exists =
        txn.exec_params(absl::StrCat(kSelectKeys, " WHERE id = $1 FOR UPDATE"), std::string(id));
    if (exists.empty())
      return absl::NotFoundError(absl::StrCat("id: no key \"", std::string(id), "\""));
    if (!exists[0][9].is_null()) {
      return absl::FailedPreconditionError(
          absl::StrCat("id: key \"", std::string(id), "\" is already revoked"));
    }
    txn.exec_params(kRevoke, std::string(id), std::string(actor));
    txn.exec_params(kInsertAudit, std::string(id), "revoke", std::string(actor), std::string(note));
    pqxx::result after =
        txn.exec_params(absl::StrCat(kSelectKeys, " WHERE id = $1"), std::string(id));
    txn.commit();
    return FromRow(after[0]);
  } catch (...) {
    return CurrentExceptionToStatus("revoke api key");
  }
}

absl::Status PgKeyStore::RotateKey(std::string_view old_id, absl::Time old_expires_at,
                                   const domain::auth::KeyRecord& replacement,
                                   std::string_view actor) {
  try {
    PgConnection conn(database_url_);
    pqxx::work txn(conn);
    pqxx::result changed =
        txn.exec_params(kExpireOld, std::string(old_id), PgTimestamp(old_expires_at));
    if (changed.affected_rows() == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("id: key \"", std::string(old_id), "\" does not exist or is revoked"));
    }
    Insert(txn, replacement);
    txn.exec_params(kInsertAudit, std::string(old_id), "rotate", std::string(actor),
                    absl::StrCat("replaced by ", replacement.id, "; old key expires ",
                                 PgTimestamp(old_expires_at)));
    txn.exec_params(kInsertAudit, replacement.id, "create", std::string(actor),
                    absl::StrCat("rotation of ", std::string(old_id),
                                 replacement.note.empty() ? "" : ": ", replacement.note));
    txn.commit();
    return absl::OkStatus();
  } catch (...) {
    return CurrentExceptionToStatus("rotate api key");
  }
}

absl::StatusOr<bool> PgKeyStore::CreateFirstKey(const domain::auth::KeyRecord& key) {
  try {
    PgConnection conn(database_url_);
    pqxx::work txn(conn);
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", kBootstrapLockKey);
    if (txn.exec("SELECT 1 FROM api_keys LIMIT 1").size() > 0) return false;
    Insert(txn, key);
    txn.exec_params(kInsertAudit, key.id, "bootstrap", "bootstrap", key.note);
    txn.commit();
    return true;
  } catch (...) {
    return CurrentExceptionToStatus("store bootstrap key");
  }
}

}  // namespace stepledger::storage
