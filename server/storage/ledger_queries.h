// Named SQL of the write path. Parameters are always bound, never concatenated.
#ifndef STEPLEDGER_SERVER_STORAGE_LEDGER_QUERIES_H_
#define STEPLEDGER_SERVER_STORAGE_LEDGER_QUERIES_H_

#include <array>
#include <string_view>

namespace stepledger::storage::queries {

// Per connection: the staging table that COPY fills; emptied at every COMMIT.
inline constexpr char kCreateStaging[] =
    "CREATE TEMP TABLE IF NOT EXISTS staging_steps (seq integer NOT NULL, LIKE steps) "
    "ON COMMIT DELETE ROWS";

// The staging table's columns in COPY order (seq first, then the ledger's columns).
inline constexpr std::array<std::string_view, 39> kStagingColumns = {
    "seq", "event_id", "occurred_at", "received_at", "digest",
    "feature", "team", "workload_class", "tenant", "environment", "parent_run_id",
    "charged_feature", "charged_team", "charged_workload_class", "charged_tenant",
    "attribution_status", "step_id", "parent_step_id", "kind", "name", "provider", "model",
    "input_uncached_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens",
    "reasoning_tokens", "reported_cost_nano_usd", "cost_nano_usd", "cost_source",
    "price_version", "tool_name", "tool_owner_team", "status", "operation_id", "attempt",
    "started_at", "ended_at", "attributes"};

// Claims each staged event_id once (the first occurrence in the group wins) and inserts the
// claimed events into the ledger. Sorting by event_id gives concurrent writers one lock order,
// so two groups sharing ids wait for each other instead of deadlocking. Returns the claimed ids.
inline constexpr char kClaimAndInsert[] = R"sql(
  WITH firsts AS (
    SELECT DISTINCT ON (event_id) * FROM staging_steps ORDER BY event_id, seq
  ), claimed AS (
    INSERT INTO event_keys (event_id, digest, occurred_at, received_at)
    SELECT event_id, digest, occurred_at, received_at FROM firsts ORDER BY event_id
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
  )
  INSERT INTO steps (
    event_id, occurred_at, received_at, digest, feature, team, workload_class, tenant,
    environment, parent_run_id, charged_feature, charged_team, charged_workload_class,
    charged_tenant, attribution_status, step_id, parent_step_id, kind, name, provider, model,
    input_uncached_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
    reasoning_tokens, reported_cost_nano_usd, cost_nano_usd, cost_source, price_version,
    tool_name, tool_owner_team, status, operation_id, attempt, started_at, ended_at, attributes)
  SELECT
    f.event_id, f.occurred_at, f.received_at, f.digest, f.feature, f.team, f.workload_class,
    f.tenant, f.environment, f.parent_run_id, f.charged_feature, f.charged_team,
    f.charged_workload_class, f.charged_tenant, f.attribution_status, f.step_id,
    f.parent_step_id, f.kind, f.name, f.provider, f.model, f.input_uncached_tokens,
    f.cache_read_tokens, f.cache_write_tokens, f.output_tokens, f.reasoning_tokens,
    f.reported_cost_nano_usd, f.cost_nano_usd, f.cost_source, f.price_version, f.tool_name,
    f.tool_owner_team, f.status, f.operation_id, f.attempt, f.started_at, f.ended_at,
    f.attributes
  FROM firsts f JOIN claimed c USING (event_id)
  RETURNING event_id
)sql";

// Digests of ids that were already claimed (by an earlier group or earlier in this group).
inline constexpr char kStoredDigests[] =
    "SELECT event_id, encode(digest, 'hex') FROM event_keys WHERE event_id = ANY($1::text[])";

inline constexpr char kInsertQuarantine[] = R"sql(
  INSERT INTO quarantine (event_id, digest, received_at, occurred_at, field, reason,
                          environment, parent_run_id, cost_nano_usd, event)
  VALUES ($1, decode($2, 'hex'), $3::timestamptz, $4::timestamptz, $5, $6, $7, $8, $9, $10::jsonb)
  ON CONFLICT (digest) DO NOTHING
)sql";

}  // namespace stepledger::storage::queries

#endif  // STEPLEDGER_SERVER_STORAGE_LEDGER_QUERIES_H_
