#include "server/storage/pg_run_repository.h"

#include <array>
#include <optional>
#include <pqxx/pqxx>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/domain/step.h"
#include "server/storage/pg_connection.h"
#include "server/storage/pg_status.h"

namespace stepledger::storage {
namespace {

using domain::runs::StepRecord;

// Limits the read to the statement timeout of this transaction only. $1: milliseconds (text).
constexpr char kSetStatementTimeout[] = "SELECT set_config('statement_timeout', $1, true)";

// One run's stored steps, in no particular order (AssembleRun orders them). Reads only the
// columns a StepRecord keeps. $1: run id; $2: row limit (max_run_steps + 1, to detect "too
// many" without counting first).
constexpr char kSelectRunSteps[] = R"sql(
  SELECT event_id, step_id, parent_step_id, kind, name, provider, model,
         input_uncached_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
         reasoning_tokens, cost_nano_usd, operation_id, attempt, tool_name, tool_owner_team,
         status, attribution_status, tag_drift,
         feature, team, workload_class, tenant, environment, parent_run_id,
         charged_feature, charged_team, charged_workload_class, charged_tenant,
         (EXTRACT(EPOCH FROM started_at) * 1000000)::bigint AS started_at_us
  FROM steps
  WHERE parent_run_id = $1
  LIMIT $2
)sql";

// Column positions in kSelectRunSteps.
enum Col : int {
  kEventId,
  kStepId,
  kParentStepId,
  kKind,
  kName,
  kProvider,
  kModel,
  kInputUncached,
  kCacheRead,
  kCacheWrite,
  kOutput,
  kReasoning,
  kCost,
  kOperationId,
  kAttempt,
  kToolName,
  kToolOwnerTeam,
  kStatus,
  kAttributionStatus,
  kTagDrift,
  kFeature,
  kTeam,
  kWorkloadClass,
  kTenant,
  kEnvironment,
  kParentRunId,
  kChargedFeature,
  kChargedTeam,
  kChargedWorkloadClass,
  kChargedTenant,
  kStartedAtUs,
};

// The inverse of domain::ToString for stored enum columns. Text no value prints as gives
// `fallback` (e.g. workload_class "(unattributed)", stored for defaulted steps).
template <typename Enum, size_t N>
Enum Parse(std::string_view text, const std::array<Enum, N>& values, Enum fallback) {
  for (Enum v : values) {
    if (domain::ToString(v) == text) return v;
  }
  return fallback;
}

constexpr std::array kKinds = {domain::StepKind::kModelCall, domain::StepKind::kToolCall,
                               domain::StepKind::kRetrieval, domain::StepKind::kEmbedding,
                               domain::StepKind::kRerank,    domain::StepKind::kOther};
constexpr std::array kClasses = {domain::WorkloadClass::kInteractive, domain::WorkloadClass::kBatch,
                                 domain::WorkloadClass::kEval, domain::WorkloadClass::kBackground};
constexpr std::array kEnvironments = {domain::Environment::kProduction,
                                      domain::Environment::kStaging, domain::Environment::kEval};
constexpr std::array kStatuses = {
    domain::AttributionStatus::kComplete, domain::AttributionStatus::kInherited,
    domain::AttributionStatus::kPending, domain::AttributionStatus::kDefaulted,
    domain::AttributionStatus::kQuarantined};

std::optional<int64_t> OptionalInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}

std::string Text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

StepRecord ToStepRecord(const pqxx::row& row) {
  StepRecord r;
  r.event_id = Text(row[kEventId]);
  r.step_id = Text(row[kStepId]);
  r.parent_step_id = Text(row[kParentStepId]);
  r.kind = Parse(Text(row[kKind]), kKinds, domain::StepKind::kOther);
  r.name = Text(row[kName]);
  r.provider = Text(row[kProvider]);
  r.model = Text(row[kModel]);
  r.usage.input_uncached_tokens = OptionalInt(row[kInputUncached]);
  r.usage.cache_read_tokens = OptionalInt(row[kCacheRead]);
  r.usage.cache_write_tokens = OptionalInt(row[kCacheWrite]);
  r.usage.output_tokens = OptionalInt(row[kOutput]);
  r.usage.reasoning_tokens = OptionalInt(row[kReasoning]);
  r.cost_nano_usd = OptionalInt(row[kCost]);
  r.operation_id = Text(row[kOperationId]);
  r.attempt = row[kAttempt].as<int32_t>();
  r.tool_name = Text(row[kToolName]);
  r.tool_owner_team = Text(row[kToolOwnerTeam]);
  r.status = Text(row[kStatus]);
  // The CHECK constraint admits only the five statuses; quarantined is the cautious reading
  // of anything else (the step is shown as unattributed, never as paid for).
  r.attribution_status =
      Parse(Text(row[kAttributionStatus]), kStatuses, domain::AttributionStatus::kQuarantined);
  r.tag_drift = row[kTagDrift].as<bool>();
  r.own_tags.feature = Text(row[kFeature]);
  r.own_tags.team = Text(row[kTeam]);
  r.own_tags.workload_class =
      Parse(Text(row[kWorkloadClass]), kClasses, domain::WorkloadClass::kUnspecified);
  r.own_tags.tenant = Text(row[kTenant]);
  r.own_tags.environment =
      Parse(Text(row[kEnvironment]), kEnvironments, domain::Environment::kUnspecified);
  r.own_tags.parent_run_id = Text(row[kParentRunId]);
  r.charged_tags.feature = Text(row[kChargedFeature]);
  r.charged_tags.team = Text(row[kChargedTeam]);
  r.charged_tags.workload_class =
      Parse(Text(row[kChargedWorkloadClass]), kClasses, domain::WorkloadClass::kUnspecified);
  r.charged_tags.tenant = Text(row[kChargedTenant]);
  // Who pays is charged in the step's own environment and run (never inherited).
  r.charged_tags.environment = r.own_tags.environment;
  r.charged_tags.parent_run_id = r.own_tags.parent_run_id;
  if (std::optional<int64_t> us = OptionalInt(row[kStartedAtUs]); us.has_value()) {
    r.started_at = absl::FromUnixMicros(*us);
  }
  return r;
}

}  // namespace

struct PgRunRepository::Connection {
  explicit Connection(const std::string& url) : pg(url, "run repository") {}
  PgConnection pg;
};

PgRunRepository::PgRunRepository(Options options) : options_(std::move(options)) {}

PgRunRepository::~PgRunRepository() = default;

absl::StatusOr<std::unique_ptr<PgRunRepository::Connection>> PgRunRepository::Acquire(
    bool& reused) {
  {
    absl::MutexLock lock(&mu_);
    auto can_proceed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_connections;
    };
    mu_.Await(absl::Condition(&can_proceed));
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      reused = true;
      return conn;
    }
    ++open_;  // Reserve the slot; connect outside the lock.
  }
  reused = false;
  try {
    return std::make_unique<Connection>(options_.database_url);
  } catch (...) {
    absl::MutexLock lock(&mu_);
    --open_;
    return CurrentExceptionToStatus("connect");
  }
}

void PgRunRepository::Release(std::unique_ptr<Connection> connection) {
  absl::MutexLock lock(&mu_);
  if (connection != nullptr && connection->pg.is_open()) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
}

absl::StatusOr<std::vector<StepRecord>> PgRunRepository::LoadOnce(Connection& connection,
                                                                  std::string_view run_id) {
  std::vector<StepRecord> steps;
  try {
    pqxx::read_transaction txn(connection.pg);
    txn.exec_params(kSetStatementTimeout,
                    absl::StrCat(absl::ToInt64Milliseconds(options_.statement_timeout)));
    pqxx::result rows =
        txn.exec_params(kSelectRunSteps, std::string(run_id), options_.max_run_steps + 1);
    txn.commit();
    if (static_cast<int64_t>(rows.size()) > options_.max_run_steps) {
      return absl::ResourceExhaustedError(
          absl::StrCat("run '", std::string(run_id), "' has more than ", options_.max_run_steps,
                       " stored steps; too many to assemble in one GetRun"));
    }
    steps.reserve(rows.size());
    for (const auto& row : rows) steps.push_back(ToStepRecord(row));
  } catch (...) {
    return CurrentExceptionToStatus("load run steps");
  }
  if (steps.empty()) {
    return absl::NotFoundError(absl::StrCat("run '", std::string(run_id), "' not found"));
  }
  return steps;
}

absl::StatusOr<std::vector<StepRecord>> PgRunRepository::LoadRunSteps(std::string_view run_id) {
  absl::StatusOr<std::vector<StepRecord>> result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = false;
    absl::StatusOr<std::unique_ptr<Connection>> conn = Acquire(reused);
    if (!conn.ok()) return conn.status();
    result = LoadOnce(**conn, run_id);
    const bool broken = absl::IsUnavailable(result.status());
    Release(broken ? nullptr : std::move(*conn));
    // Only an idle connection that broke unnoticed earns a second try; a fresh connection
    // that fails means the database is down now.
    if (!broken || !reused) break;
  }
  return result;
}

}  // namespace stepledger::storage
