#include "server/storage/partitions.h"

#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"

namespace stepledger::storage {
namespace {

constexpr int64_t kPartitionLockKey = 0x5354504c50415254;  // "STPLPART"

}  // namespace

std::string PartitionName(absl::CivilDay day) {
  return absl::StrFormat("steps_p%04d%02d%02d", day.year(), day.month(), day.day());
}

absl::Status EnsureDailyPartitions(pqxx::connection& conn, absl::Span<const absl::CivilDay> days) {
  if (days.empty()) return absl::OkStatus();
  try {
    pqxx::work txn(conn);
    txn.exec_params("SELECT pg_advisory_xact_lock($1)", kPartitionLockKey);
    for (absl::CivilDay day : days) {
      // DDL cannot take bind parameters; the name and bounds are built from a CivilDay, never
      // from client text, so this concatenation cannot inject anything.
      txn.exec(absl::StrCat("CREATE TABLE IF NOT EXISTS ", PartitionName(day),
                            " PARTITION OF steps FOR VALUES FROM ('", PgDate(day),
                            " 00:00:00+00') TO ('", PgDate(day + 1), " 00:00:00+00')"));
    }
    txn.commit();
  } catch (...) {
    return CurrentExceptionToStatus("create partitions");
  }
  return absl::OkStatus();
}

absl::Status EnsurePartitionsAround(const std::string& database_url, absl::CivilDay today,
                                    int days_ahead) {
  std::vector<absl::CivilDay> days;
  for (absl::CivilDay d = today - 1; d <= today + days_ahead; ++d) days.push_back(d);
  try {
    PgConnection conn(database_url);
    return EnsureDailyPartitions(conn, days);
  } catch (...) {
    return CurrentExceptionToStatus("connect for partitions");
  }
}

}  // namespace stepledger::storage
