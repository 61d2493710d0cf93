#include "server/storage/pg_budget_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "server/storage/budget_queries.h"
#include "server/storage/cap_row.h"
#include "server/storage/copy_text.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {

using domain::budget::Acknowledgement;
using domain::budget::Cap;
using domain::budget::CounterTotals;

// Repeatable read, so that a read's mark (its snapshot) and its rows come from one snapshot.
using SnapshotReadTransaction =
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>;

absl::StatusOr<domain::budget::Scope> ParseScope(std::string_view s) {
  using domain::budget::Scope;
  if (s == "feature") return Scope::kFeature;
  if (s == "team") return Scope::kTeam;
  if (s == "tenant") return Scope::kTenant;
  if (s == "org") return Scope::kOrg;
  return absl::InvalidArgumentError(
      absl::StrCat("scope: \"", std::string(s), "\" is not feature, team, tenant or org"));
}

absl::StatusOr<domain::budget::Period> ParsePeriod(std::string_view s) {
  using domain::budget::Period;
  if (s == "daily") return Period::kDaily;
  if (s == "monthly") return Period::kMonthly;
  return absl::InvalidArgumentError(
      absl::StrCat("period: \"", std::string(s), "\" is not daily or monthly"));
}

absl::StatusOr<domain::budget::Action> ParseAction(std::string_view s) {
  using domain::budget::Action;
  if (s == "alert") return Action::kAlert;
  if (s == "require_ack") return Action::kRequireAck;
  if (s.empty() || s == "default") return Action::kUnspecified;
  return absl::InvalidArgumentError(
      absl::StrCat("action: \"", std::string(s), "\" is not alert or require_ack"));
}

// Empty (NULL: a row written without it) is the action's default, as ApplyCapDefaults gives.
absl::StatusOr<domain::budget::StalePolicy> ParseStalePolicy(std::string_view s,
                                                             domain::budget::Action action) {
  using domain::budget::StalePolicy;
  if (s.empty()) return domain::budget::DefaultStalePolicy(action);
  if (s == "answer") return StalePolicy::kAnswer;
  if (s == "alert") return StalePolicy::kAlert;
  if (s == "require_ack") return StalePolicy::kRequireAck;
  return absl::InvalidArgumentError(
      absl::StrCat("stale_policy: \"", std::string(s), "\" is not answer, alert or require_ack"));
}

absl::StatusOr<domain::Environment> ParseEnvironment(std::string_view s) {
  if (std::optional<domain::Environment> env = domain::EnvironmentFromString(s)) return *env;
  return absl::InvalidArgumentError(
      absl::StrCat("environment: \"", std::string(s), "\" is not production, staging or eval"));
}

PgBudgetStore::PgBudgetStore(std::string database_url)
    : db_(std::move(database_url), "budget store") {}
PgBudgetStore::~PgBudgetStore() = default;

absl::StatusOr<int64_t> PgBudgetStore::CapsVersion() {
  return db_.Run("read caps version", [&](PgConnection& pg) -> absl::StatusOr<int64_t> {
    pqxx::read_transaction txn(pg);
    return txn.exec1(queries::kSelectCapsVersion)[0].as<int64_t>();
  });
}

absl::StatusOr<std::vector<Cap>> PgBudgetStore::LoadCaps() {
  return db_.Run("load caps", [&](PgConnection& pg) -> absl::StatusOr<std::vector<Cap>> {
    pqxx::read_transaction txn(pg);
    std::vector<Cap> caps;
    for (const auto& row : txn.exec(queries::kSelectCaps)) {
      absl::StatusOr<Cap> cap = CapFromRow(row);
      if (!cap.ok()) return cap.status();
      caps.push_back(*std::move(cap));
    }
    return caps;
  });
}

absl::Status PgBudgetStore::PutCap(const Cap& cap, const std::string& changed_by,
                                   absl::Time /*now*/) {
  return db_.Run("put budget", [&](PgConnection& pg) -> absl::Status {
    // No table lock and no recount of the ledger: writers count every key (migration 0013), so
    // the cap's counters exist whether or not a cap watched them before. A few row writes.
    pqxx::work txn(pg);
    pqxx::result before = txn.exec_params(queries::kSelectCapJson, cap.id);
    const std::string scope(domain::budget::ToString(cap.scope));
    const std::string env(domain::ToString(cap.environment));
    // A cap put without ApplyCapDefaults (tests, tools) is stored with its action's default,
    // as a row written without the column reads (migration 0017).
    const domain::budget::StalePolicy stale_policy =
        cap.stale_policy == domain::budget::StalePolicy::kUnspecified
            ? domain::budget::DefaultStalePolicy(cap.action)
            : cap.stale_policy;
    pqxx::row after = txn.exec_params1(
        queries::kUpsertCap, cap.id, scope, cap.key, env,
        std::string(domain::budget::ToString(cap.period)), cap.limit_nano_usd,
        std::string(domain::budget::ToString(cap.action)), cap.alert_threshold_bps, cap.owner,
        cap.signed_off_by, cap.shadow, std::string(domain::budget::ToString(stale_policy)));
    const bool created = before.empty();
    const std::string before_json = created ? "" : before[0][0].as<std::string>();
    txn.exec_params(queries::kInsertAudit, cap.id, created ? "create" : "update", changed_by,
                    created ? nullptr : before_json.c_str(), after[0].as<std::string>());
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status PgBudgetStore::DeleteCap(const std::string& cap_id, const std::string& changed_by) {
  return db_.Run("delete budget", [&](PgConnection& pg) -> absl::Status {
    // The key's counters stay: writers keep counting it, and a cap added
    // later reads them.
    pqxx::work txn(pg);
    pqxx::result before = txn.exec_params(queries::kSelectCapJson, cap_id);
    if (before.empty()) return absl::NotFoundError(absl::StrCat("cap_id: no cap \"", cap_id, "\""));
    txn.exec_params1(queries::kDeleteCap, cap_id);
    txn.exec_params(queries::kInsertAudit, cap_id, "delete", changed_by,
                    before[0][0].as<std::string>(), nullptr);
    txn.commit();
    return absl::OkStatus();
  });
}

absl::Status PgBudgetStore::InsertAcknowledgement(const Acknowledgement& ack) {
  return db_.Run("acknowledge", [&](PgConnection& pg) -> absl::Status {
    pqxx::work txn(pg);
    txn.exec_params(queries::kInsertAcknowledgement, ack.id, ack.cap_id, ack.principal, ack.reason,
                    ack.extra_headroom, PgTimestamp(ack.created_at), PgTimestamp(ack.expires_at));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<domain::budget::AcknowledgementsRead> PgBudgetStore::LoadAcknowledgements(
    const std::string* since_mark) {
  return db_.Run(
      "load acknowledgements",
      [&](PgConnection& pg) -> absl::StatusOr<domain::budget::AcknowledgementsRead> {
        SnapshotReadTransaction txn(pg);
        domain::budget::AcknowledgementsRead read;
        read.next_mark = txn.exec1(queries::kReadSnapshot)[0].as<std::string>();
        const pqxx::result result =
            since_mark == nullptr
                ? txn.exec(queries::kSelectAcknowledgements)
                : txn.exec_params(queries::kSelectNewAcknowledgements, *since_mark);
        for (const auto& row : result) {
          Acknowledgement ack;
          ack.id = row[0].as<std::string>();
          ack.cap_id = row[1].as<std::string>();
          ack.principal = row[2].as<std::string>();
          ack.reason = row[3].as<std::string>();
          ack.extra_headroom = row[4].as<int64_t>();
          ack.created_at = absl::FromUnixMicros(static_cast<int64_t>(row[5].as<double>() * 1e6));
          ack.expires_at = absl::FromUnixMicros(static_cast<int64_t>(row[6].as<double>() * 1e6));
          read.acks.push_back(std::move(ack));
        }
        return read;
      });
}

namespace {

pqxx::result ReadChangedCounterTotals(pqxx::transaction_base& txn, absl::Time since,
                                      const domain::budget::ChangedCounters& changed) {
  std::vector<std::string> scopes;
  std::vector<std::string> keys;
  std::vector<std::string> environments;
  std::vector<std::string> periods;
  std::vector<std::string> starts;
  for (const domain::budget::CounterKey& k : changed.keys) {
    scopes.emplace_back(domain::budget::ToString(k.scope));
    keys.push_back(k.key);
    environments.emplace_back(domain::ToString(k.environment));
    periods.emplace_back(domain::budget::ToString(k.period));
    starts.push_back(absl::StrCat(absl::ToUnixSeconds(k.period_start)));
  }
  std::vector<std::string> new_scopes;
  std::vector<std::string> new_keys;
  std::vector<std::string> new_environments;
  std::vector<std::string> new_periods;
  for (const domain::budget::CounterSeries& n : changed.new_series) {
    new_scopes.emplace_back(domain::budget::ToString(n.scope));
    new_keys.push_back(n.key);
    new_environments.emplace_back(domain::ToString(n.environment));
    new_periods.emplace_back(domain::budget::ToString(n.period));
  }
  return txn.exec_params(queries::kChangedCounterTotals, PgTimestamp(since), changed.since_mark,
                         PgTextArray(scopes), PgTextArray(keys), PgTextArray(environments),
                         PgTextArray(periods), PgTextArray(starts), PgTextArray(new_scopes),
                         PgTextArray(new_keys), PgTextArray(new_environments),
                         PgTextArray(new_periods));
}

// Rows of (scope, key, environment, period, period start in unix seconds, spent).
std::vector<CounterTotals> CounterRows(const pqxx::result& result) {
  std::vector<CounterTotals> rows;
  rows.reserve(result.size());
  for (const auto& row : result) {
    auto scope = ParseScope(row[0].as<std::string>());
    auto env = ParseEnvironment(row[2].as<std::string>());
    auto period = ParsePeriod(row[3].as<std::string>());
    if (!scope.ok() || !env.ok() || !period.ok()) continue;  // not a counter we evaluate
    CounterTotals t;
    t.key.scope = *scope;
    t.key.key = row[1].as<std::string>();
    t.key.environment = *env;
    t.key.period = *period;
    t.key.period_start = absl::FromUnixSeconds(row[4].as<int64_t>());
    t.spent = row[5].as<int64_t>();
    rows.push_back(std::move(t));
  }
  return rows;
}

}  // namespace

absl::StatusOr<domain::budget::CounterTotalsRead> PgBudgetStore::ReadCounterTotals(
    absl::Time since, const domain::budget::ChangedCounters* changed) {
  return db_.Run(
      "read counters", [&](PgConnection& pg) -> absl::StatusOr<domain::budget::CounterTotalsRead> {
        SnapshotReadTransaction txn(pg);
        domain::budget::CounterTotalsRead read;
        read.next_mark = txn.exec1(queries::kReadSnapshot)[0].as<std::string>();
        const pqxx::result result =
            changed == nullptr ? txn.exec_params(queries::kCounterTotals, PgTimestamp(since))
                               : ReadChangedCounterTotals(txn, since, *changed);
        read.rows = CounterRows(result);
        return read;
      });
}

absl::StatusOr<std::vector<CounterTotals>> PgBudgetStore::ReadSeriesTotals(
    absl::Time since, const std::vector<domain::budget::CounterSeries>& series) {
  std::vector<std::string> scopes;
  std::vector<std::string> keys;
  std::vector<std::string> environments;
  std::vector<std::string> periods;
  for (const domain::budget::CounterSeries& n : series) {
    scopes.emplace_back(domain::budget::ToString(n.scope));
    keys.push_back(n.key);
    environments.emplace_back(domain::ToString(n.environment));
    periods.emplace_back(domain::budget::ToString(n.period));
  }
  return db_.Run("read counters of new caps",
                 [&](PgConnection& pg) -> absl::StatusOr<std::vector<CounterTotals>> {
                   pqxx::read_transaction txn(pg);
                   const pqxx::result result = txn.exec_params(
                       queries::kSeriesTotals, PgTimestamp(since), PgTextArray(scopes),
                       PgTextArray(keys), PgTextArray(environments), PgTextArray(periods));
                   return CounterRows(result);
                 });
}

absl::StatusOr<int64_t> PgBudgetStore::PruneCounters(absl::Time daily_before,
                                                     absl::Time monthly_before, int64_t limit) {
  return db_.Run("prune counters", [&](PgConnection& pg) -> absl::StatusOr<int64_t> {
    pqxx::work txn(pg);
    const pqxx::result deleted = txn.exec_params(queries::kPruneCounters, PgTimestamp(daily_before),
                                                 PgTimestamp(monthly_before), limit);
    txn.commit();
    return static_cast<int64_t>(deleted.affected_rows());
  });
}

}  // namespace stepledger::storage
