// Named SQL of budgets: caps (audited), acknowledgements, spend counters.
#ifndef STEPLEDGER_SERVER_STORAGE_BUDGET_QUERIES_H_
#define STEPLEDGER_SERVER_STORAGE_BUDGET_QUERIES_H_

namespace stepledger::storage::queries {

// The columns in CapFromRow's order (cap_row.h).
inline constexpr char kSelectCaps[] = R"sql(
  SELECT id, scope, key, environment, period, limit_nano_usd, action, alert_threshold_bps,
         owner, signed_off_by, shadow, coalesce(stale_policy, ''), revision, changed_by
  FROM budgets ORDER BY id
)sql";

// Bumped by a trigger with every change to `budgets` (migration 0010).
inline constexpr char kSelectCapsVersion[] = "SELECT version FROM budget_caps_version";

inline constexpr char kSelectCapJson[] =
    "SELECT to_jsonb(b) - 'created_at' - 'updated_at' FROM budgets b WHERE id = $1 FOR UPDATE";

inline constexpr char kUpsertCap[] = R"sql(
  INSERT INTO budgets (id, scope, key, environment, period, limit_nano_usd, action,
                       alert_threshold_bps, owner, signed_off_by, shadow, stale_policy)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  ON CONFLICT (id) DO UPDATE SET
    scope = EXCLUDED.scope, key = EXCLUDED.key, environment = EXCLUDED.environment,
    period = EXCLUDED.period, limit_nano_usd = EXCLUDED.limit_nano_usd,
    action = EXCLUDED.action, alert_threshold_bps = EXCLUDED.alert_threshold_bps,
    owner = EXCLUDED.owner, signed_off_by = EXCLUDED.signed_off_by, shadow = EXCLUDED.shadow,
    stale_policy = EXCLUDED.stale_policy, updated_at = now()
  RETURNING to_jsonb(budgets) - 'created_at' - 'updated_at'
)sql";

inline constexpr char kDeleteCap[] =
    "DELETE FROM budgets WHERE id = $1 RETURNING scope, key, environment";

inline constexpr char kInsertAudit[] = R"sql(
  INSERT INTO budget_audit (cap_id, action, changed_by, before, after)
  VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
)sql";

inline constexpr char kInsertAcknowledgement[] = R"sql(
  INSERT INTO acknowledgements (id, cap_id, principal, reason, extra_headroom_nano_usd,
                                created_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz)
)sql";

inline constexpr char kSelectAcknowledgements[] = R"sql(
  SELECT id, cap_id, principal, reason, extra_headroom_nano_usd,
         extract(epoch FROM created_at)::float8, extract(epoch FROM expires_at)::float8
  FROM acknowledgements ORDER BY created_at, id
)sql";

// The same, for only the acknowledgements stored by transactions that snapshot $1 (an earlier
// read's) could not see.
inline constexpr char kSelectNewAcknowledgements[] = R"sql(
  SELECT id, cap_id, principal, reason, extra_headroom_nano_usd,
         extract(epoch FROM created_at)::float8, extract(epoch FROM expires_at)::float8
  FROM acknowledgements WHERE NOT pg_visible_in_snapshot(created_xid, $1::pg_snapshot)
  ORDER BY created_at, id
)sql";

// The two counter reads below read only the series some cap watches and the org's (always
// kept), never the rows of the other keys that writers count too (every key, migration 0013).
// kCounterTotals probes spend_counters_key once per watched series (the LATERAL subquery), so
// it costs the same with 10 or 1,000,000 tenants; kChangedCounterTotals says how it finds its
// rows. $1: counters of periods that end after it (the periods containing it, and later ones).

// Sum over every owner of each watched counter. (One owner's row can be negative: a re-charge
// moves spend off a key that another writer counted.)
inline constexpr char kCounterTotals[] = R"sql(
  WITH watched AS (
    SELECT DISTINCT scope, key, environment, period FROM budgets
    UNION
    SELECT 'org', '*', e, p FROM unnest(ARRAY['production', 'staging', 'eval']) AS e,
                                unnest(ARRAY['daily', 'monthly']) AS p
  )
  SELECT w.scope, w.key, w.environment, w.period, extract(epoch FROM c.period_start)::bigint,
         GREATEST(sum(c.spent_nano_usd), 0)::bigint
  FROM watched w CROSS JOIN LATERAL (
    SELECT c.period_start, c.spent_nano_usd FROM spend_counters c
    WHERE c.scope = w.scope AND c.key = w.key AND c.environment = w.environment
      AND c.period = w.period
      AND c.period_start >= date_trunc(CASE w.period WHEN 'daily' THEN 'day' ELSE 'month' END,
                                       $1::timestamptz, 'UTC')) c
  GROUP BY w.scope, w.key, w.environment, w.period, c.period_start
)sql";

// The same sums, for only the watched counters with a row written by a transaction that
// snapshot $2 (an earlier read's) could not see, plus the counters named by the parallel arrays
// $3 scope, $4 key, $5 environment, $6 period and $7 period start (unix seconds), plus every
// counter (of a period ending after $1) of the series named by the parallel arrays $8 scope,
// $9 key, $10 environment and $11 period: those a cap started watching since that read.
//
// Finding the changed rows, two ways, whichever is cheaper for the table's size (`by_scan`, from
// the planner's row counts, so no extra round trip):
//   - one filtered pass over spend_counters (about 0.1 us a row: the cheap xid8 comparison
//     first, since a row that snapshot could not see has a writer no older than its xmin), then
//     a hash join with `budgets` for the watched ones (and the org's): cost follows the table's
//     rows and the changes: half the time of probing at 10,000 caps under ingest
//     (PERFORMANCE.md, "Counter refresh under ingest");
//   - when the table holds over 10 rows per cap (many unwatched tenants, say), one probe of
//     spend_counters_key per watched series, as kCounterTotals reads (about 1 us a probe):
//     cost follows the caps, whatever the number of tenants.
// No index on changed_xid: it would end the writers' HOT updates (migration 0011), and measured
// with one it was no faster at 15,000 rows. Each wanted counter is then summed over its owners,
// one probe of spend_counters_key each. The org series are those kCounterTotals reads.
inline constexpr char kChangedCounterTotals[] = R"sql(
  WITH plan AS MATERIALIZED (
    SELECT (SELECT reltuples FROM pg_class WHERE oid = 'spend_counters'::regclass)
           <= 10 * GREATEST((SELECT reltuples FROM pg_class WHERE oid = 'budgets'::regclass), 1000)
           AS by_scan
  ), changed AS MATERIALIZED (
    SELECT c.scope, c.key, c.environment, c.period, c.period_start
    FROM spend_counters c
    WHERE (SELECT by_scan FROM plan)
      AND c.changed_xid >= (SELECT pg_snapshot_xmin($2::pg_snapshot))
      AND NOT pg_visible_in_snapshot(c.changed_xid, (SELECT $2::pg_snapshot))
      AND c.period_start >= CASE c.period
                              WHEN 'daily' THEN (SELECT date_trunc('day', $1::timestamptz, 'UTC'))
                              ELSE (SELECT date_trunc('month', $1::timestamptz, 'UTC')) END
  ), org AS (
    SELECT 'org' AS scope, '*' AS key, e AS environment, p AS period
    FROM unnest(ARRAY['production', 'staging', 'eval']) AS e, unnest(ARRAY['daily', 'monthly']) AS p
  ), watched AS (
    SELECT DISTINCT scope, key, environment, period FROM budgets
    UNION
    SELECT scope, key, environment, period FROM org
  ), fresh AS (
    SELECT scope, key, environment, period
    FROM unnest($8::text[], $9::text[], $10::text[], $11::text[])
         AS n(scope, key, environment, period)
  ), wanted AS (
    SELECT ch.scope, ch.key, ch.environment, ch.period, ch.period_start
    FROM changed ch JOIN budgets b
      ON b.scope = ch.scope AND b.key = ch.key AND b.environment = ch.environment
         AND b.period = ch.period
    UNION
    SELECT ch.scope, ch.key, ch.environment, ch.period, ch.period_start
    FROM changed ch JOIN org USING (scope, key, environment, period)
    UNION
    SELECT w.scope, w.key, w.environment, w.period, c.period_start
    FROM watched w CROSS JOIN LATERAL (
      SELECT c.period_start FROM spend_counters c
      WHERE c.scope = w.scope AND c.key = w.key AND c.environment = w.environment
        AND c.period = w.period
        AND c.period_start >= date_trunc(CASE w.period WHEN 'daily' THEN 'day' ELSE 'month' END,
                                         $1::timestamptz, 'UTC')
        AND NOT pg_visible_in_snapshot(c.changed_xid, (SELECT $2::pg_snapshot))) c
    WHERE NOT (SELECT by_scan FROM plan)
    UNION
    SELECT scope, key, environment, period, to_timestamp(start_unix)
    FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         AS k(scope, key, environment, period, start_unix)
    UNION
    SELECT f.scope, f.key, f.environment, f.period, c.period_start
    FROM fresh f CROSS JOIN LATERAL (
      SELECT c.period_start FROM spend_counters c
      WHERE c.scope = f.scope AND c.key = f.key AND c.environment = f.environment
        AND c.period = f.period
        AND c.period_start >= date_trunc(CASE f.period WHEN 'daily' THEN 'day' ELSE 'month' END,
                                         $1::timestamptz, 'UTC')) c
  )
  SELECT w.scope, w.key, w.environment, w.period, extract(epoch FROM w.period_start)::bigint,
         GREATEST(s.spent, 0)::bigint
  FROM wanted w CROSS JOIN LATERAL (
    SELECT sum(c.spent_nano_usd) AS spent FROM spend_counters c
    WHERE c.scope = w.scope AND c.key = w.key AND c.environment = w.environment
      AND c.period = w.period AND c.period_start = w.period_start) s
  WHERE s.spent IS NOT NULL
)sql";

// The sums of every counter of the series named by the parallel arrays $2 scope, $3 key,
// $4 environment and $5 period, of periods that end after $1: a new cap's counters.
inline constexpr char kSeriesTotals[] = R"sql(
  SELECT n.scope, n.key, n.environment, n.period, extract(epoch FROM c.period_start)::bigint,
         GREATEST(sum(c.spent_nano_usd), 0)::bigint
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
       AS n(scope, key, environment, period)
  CROSS JOIN LATERAL (
    SELECT c.period_start, c.spent_nano_usd FROM spend_counters c
    WHERE c.scope = n.scope AND c.key = n.key AND c.environment = n.environment
      AND c.period = n.period
      AND c.period_start >= date_trunc(CASE n.period WHEN 'daily' THEN 'day' ELSE 'month' END,
                                       $1::timestamptz, 'UTC')) c
  GROUP BY n.scope, n.key, n.environment, n.period, c.period_start
)sql";

// Rows of periods no replica reads any more ($1: daily periods starting before it, $2: monthly
// ones), at most $3 per call. SKIP LOCKED: a writer holding a row (a late event) is never
// waited on, so this can neither stall nor deadlock a writer; the row goes next time.
inline constexpr char kPruneCounters[] = R"sql(
  DELETE FROM spend_counters WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM spend_counters
    WHERE period_start < GREATEST($1::timestamptz, $2::timestamptz)
      AND ((period = 'daily' AND period_start < $1::timestamptz)
           OR (period = 'monthly' AND period_start < $2::timestamptz))
    LIMIT $3 FOR UPDATE SKIP LOCKED))
)sql";

// A read's own snapshot (repeatable read: the one its rows come from), as text
// ("xmin:xmax:in-progress ids"): the next read asks for the rows it could not see.
inline constexpr char kReadSnapshot[] = "SELECT pg_current_snapshot()::text";

}  // namespace stepledger::storage::queries

#endif  // STEPLEDGER_SERVER_STORAGE_BUDGET_QUERIES_H_
