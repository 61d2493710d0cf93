// The SQL migrations compiled into the binary (from migrations/*.sql, in file-name order).
#ifndef STEPLEDGER_SERVER_STORAGE_EMBEDDED_MIGRATIONS_H_
#define STEPLEDGER_SERVER_STORAGE_EMBEDDED_MIGRATIONS_H_

#include <string>
#include <vector>

namespace stepledger::storage {

struct Migration {
  std::string name;  // "0001_ledger.sql": the leading number is the version
  std::string sql;
};

const std::vector<Migration>& EmbeddedMigrations();

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_EMBEDDED_MIGRATIONS_H_
