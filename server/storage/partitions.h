// Daily partitions of the steps ledger.
//
// Partitions are named steps_pYYYYMMDD and cover [day 00:00 UTC, next day 00:00 UTC).
// They are created by the SQL function ensure_ledger_partitions (migration 0022), SECURITY
// DEFINER: the DDL runs as the owner of the migrations, so the collector's runtime role needs
// no CREATE right (docs/OPERATING.md, "Database roles"). The function takes a
// transaction-scoped advisory lock so that concurrent writers (or replicas) asking for the
// same day never race on CREATE TABLE.
#ifndef STEPLEDGER_SERVER_STORAGE_PARTITIONS_H_
#define STEPLEDGER_SERVER_STORAGE_PARTITIONS_H_

#include <pqxx/connection>  // internal to storage/: only storage .cc files include this
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/types/span.h"

namespace stepledger::storage {

std::string PartitionName(absl::CivilDay day);

// Creates the missing partitions for `days` in one short transaction of its own.
absl::Status EnsureDailyPartitions(pqxx::connection& conn, absl::Span<const absl::CivilDay> days);

// Convenience for start-up and the daily upkeep: yesterday .. today + days_ahead.
absl::Status EnsurePartitionsAround(const std::string& database_url, absl::CivilDay today,
                                    int days_ahead);

}  // namespace stepledger::storage

#endif  // STEPLEDGER_SERVER_STORAGE_PARTITIONS_H_
