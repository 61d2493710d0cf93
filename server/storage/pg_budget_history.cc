#include "server/storage/pg_budget_history.h"

#include <pqxx/pqxx>

#include "absl/strings/str_join.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {
namespace {

// Charged tags (who pays), not the step's own: that is what the live counters are keyed by.
// Times travel as epoch microseconds so no text timestamp parsing is needed. $3 is a
// comma-separated list of environments, '' for all.
constexpr char kSelectHistory[] = R"sql(
SELECT charged_feature, charged_team, charged_workload_class, charged_tenant, environment,
       parent_run_id, COALESCE(cost_nano_usd, 0),
       (EXTRACT(EPOCH FROM occurred_at) * 1000000)::bigint
  FROM steps
 WHERE occurred_at >= to_timestamp($1::bigint / 1000000.0)
   AND occurred_at < to_timestamp($2::bigint / 1000000.0)
   AND ($3 = '' OR environment = ANY (string_to_array($3, ',')))
 ORDER BY occurred_at
)sql";

}  // namespace

absl::StatusOr<std::vector<domain::budget::HistoricalStep>> LoadBudgetHistory(
    const std::string& database_url, absl::Time since, absl::Time until,
    const std::vector<domain::Environment>& environments) {
  std::vector<std::string> env_names;
  for (domain::Environment e : environments) env_names.emplace_back(domain::ToString(e));
  const std::string envs = absl::StrJoin(env_names, ",");
  try {
    PgConnection conn(database_url);
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn(conn);
    const pqxx::result rows =
        txn.exec_params(kSelectHistory, absl::ToUnixMicros(since), absl::ToUnixMicros(until), envs);
    std::vector<domain::budget::HistoricalStep> history;
    history.reserve(rows.size());
    for (const auto& r : rows) {
      domain::budget::HistoricalStep step;
      step.tags.feature = r[0].as<std::string>();
      step.tags.team = r[1].as<std::string>();
      step.tags.workload_class = domain::WorkloadClassFromString(r[2].as<std::string>())
                                     .value_or(domain::WorkloadClass::kUnspecified);
      step.tags.tenant = r[3].as<std::string>();
      step.tags.environment =
          domain::EnvironmentFromString(r[4].c_str()).value_or(domain::Environment::kUnspecified);
      step.tags.parent_run_id = r[5].as<std::string>();
      step.cost_nano_usd = r[6].as<int64_t>();
      step.occurred_at = absl::FromUnixMicros(r[7].as<int64_t>());
      history.push_back(std::move(step));
    }
    txn.commit();
    return history;
  } catch (...) {
    return CurrentExceptionToStatus("load budget history");
  }
}

}  // namespace stepledger::storage
