#include "server/storage/partitions.h"

#include <pqxx/pqxx>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/storage/copy_text.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"
#include "server/storage/pg_time.h"

namespace stepledger::storage {
std::string PartitionName(absl::CivilDay day) {
  return absl::StrFormat("steps_p%04d%02d%02d", day.year(), day.month(), day.day());
}

absl::Status EnsureDailyPartitions(pqxx::connection& conn, absl::Span<const absl::CivilDay> days) {
  if (days.empty()) return absl::OkStatus();
  std::vector<std::string> dates;
  dates.reserve(days.size());
  for (absl::CivilDay day : days) dates.push_back(PgDate(day));
  try {
    pqxx::work txn(conn);
    txn.exec_params("SELECT ensure_ledger_partitions($1::date[])", PgTextArray(dates));
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
