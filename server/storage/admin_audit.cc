#include "server/storage/admin_audit.h"

#include <utility>

#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {
namespace {

constexpr char kInsertAudit[] = R"sql(
  INSERT INTO admin_audit (action, actor, note, detail) VALUES ($1, $2, $3, $4::jsonb)
)sql";

constexpr char kListAudit[] = R"sql(
  SELECT id, action, actor, note, detail::text,
         (EXTRACT(EPOCH FROM changed_at) * 1000000)::bigint
  FROM admin_audit ORDER BY id DESC LIMIT $1
)sql";

}  // namespace

void RecordAdminAudit(pqxx::work& txn, std::string_view action,
                      const domain::auth::AuditActor& actor, const nlohmann::json& detail) {
  txn.exec_params(kInsertAudit, std::string(action), actor.identity, actor.note, detail.dump());
}

absl::StatusOr<std::vector<domain::auth::AdminAuditRecord>> ListAdminAudit(
    const std::string& database_url, int limit) {
  try {
    PgConnection conn(database_url);
    pqxx::read_transaction txn(conn);
    pqxx::result rows = txn.exec_params(kListAudit, limit);
    std::vector<domain::auth::AdminAuditRecord> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      domain::auth::AdminAuditRecord record;
      record.id = row[0].as<int64_t>();
      record.action = row[1].as<std::string>();
      record.actor.identity = row[2].as<std::string>();
      record.actor.note = row[3].as<std::string>();
      record.detail_json = row[4].as<std::string>();
      record.changed_at = absl::FromUnixMicros(row[5].as<int64_t>());
      out.push_back(std::move(record));
    }
    txn.commit();
    return out;
  } catch (...) {
    return CurrentExceptionToStatus("list admin audit");
  }
}

}  // namespace stepledger::storage
