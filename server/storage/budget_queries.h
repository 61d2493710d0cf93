// Named SQL of budgets: caps (audited), acknowledgements, spend counters.
#ifndef STEPLEDGER_SERVER_STORAGE_BUDGET_QUERIES_H_
#define STEPLEDGER_SERVER_STORAGE_BUDGET_QUERIES_H_

namespace stepledger::storage::queries {

inline constexpr char kSelectCaps[] = R"sql(
  SELECT id, scope, key, environment, period, limit_nano_usd, action, alert_threshold_bps,
         owner, signed_off_by, shadow
  FROM budgets ORDER BY id
)sql";

// Bumped by a trigger with every change to `budgets` (migration 0010).
inline constexpr char kSelectCapsVersion[] = "SELECT version FROM budget_caps_version";

inline constexpr char kSelectCapJson[] =
    "SELECT to_jsonb(b) - 'created_at' - 'updated_at' FROM budgets b WHERE id = $1 FOR UPDATE";

inline constexpr char kUpsertCap[] = R"sql(
  INSERT INTO budgets (id, scope, key, environment, period, limit_nano_usd, action,
                       alert_threshold_bps, owner, signed_off_by, shadow)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
  ON CONFLICT (id) DO UPDATE SET
    scope = EXCLUDED.scope, key = EXCLUDED.key, environment = EXCLUDED.environment,
    period = EXCLUDED.period, limit_nano_usd = EXCLUDED.limit_nano_usd,
    action = EXCLUDED.action, alert_threshold_bps = EXCLUDED.alert_threshold_bps,
    owner = EXCLUDED.owner, signed_off_by = EXCLUDED.signed_off_by, shadow = EXCLUDED.shadow,
    updated_at = now()
  RETURNING to_jsonb(budgets) - 'created_at' - 'updated_at'
)sql";

inline constexpr char kDeleteCap[] =
    "DELETE FROM budgets WHERE id = $1 RETURNING scope, key, environment";

inline constexpr char kInsertAudit[] = R"sql(
  INSERT INTO budget_audit (cap_id, action, changed_by, before, after)
  VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)
)sql";

// Writers add counter deltas inside their statement; holding this lock while a cap appears and
// its counters are back-filled from the ledger means every committed step is counted exactly
// once: either the back-fill sees it (committed before) or the writer does (cap visible).
inline constexpr char kLockCounters[] = "LOCK TABLE spend_counters IN SHARE ROW EXCLUSIVE MODE";

// Back-fills the current counters of (scope, key, environment) from the ledger, for each
// period some cap on the key watches, when no writer has counted them yet. $1 scope, $2 key, $3 environment, $4 charged
// column value filter is by scope (see the CASE), $4 now.
inline constexpr char kBackfillCounters[] = R"sql(
  INSERT INTO spend_counters (owner, scope, key, environment, period, period_start,
                              spent_nano_usd)
  SELECT 'backfill', $1, $2, $3, p.period, p.start,
         COALESCE((SELECT sum(s.cost_nano_usd) FROM steps s
                   WHERE s.environment = $3 AND s.occurred_at >= p.start
                     AND s.occurred_at < p.stop
                     AND CASE $1 WHEN 'feature' THEN s.charged_feature = $2
                                 WHEN 'team' THEN s.charged_team = $2
                                 WHEN 'tenant' THEN s.charged_tenant = $2
                                 ELSE true END), 0)
  FROM (VALUES ('daily', date_trunc('day', $4::timestamptz, 'UTC'),
                date_trunc('day', $4::timestamptz, 'UTC') + interval '1 day'),
               ('monthly', date_trunc('month', $4::timestamptz, 'UTC'),
                date_trunc('month', $4::timestamptz, 'UTC') + interval '1 month'))
       AS p(period, start, stop)
  WHERE EXISTS (SELECT 1 FROM budgets b
                WHERE b.scope = $1 AND b.key = $2 AND b.environment = $3 AND b.period = p.period)
    AND NOT EXISTS (SELECT 1 FROM spend_counters c
                    WHERE c.scope = $1 AND c.key = $2 AND c.environment = $3
                      AND c.period = p.period AND c.period_start = p.start)
  ON CONFLICT DO NOTHING
)sql";

// When the last cap on a key and period goes (deleted, or moved to the other period), its
// counters go too: writers stop counting it, so keeping them would leave a stale total for a
// cap added later.
inline constexpr char kDropOrphanCounters[] = R"sql(
  DELETE FROM spend_counters c
  WHERE c.scope = $1 AND c.key = $2 AND c.environment = $3
    AND NOT EXISTS (SELECT 1 FROM budgets b
                    WHERE b.scope = $1 AND b.key = $2 AND b.environment = $3
                      AND b.period = c.period)
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

// Sum over every owner of the counters of periods starting at or after $1. (One owner's row
// can be negative: a re-charge moves spend off a key that another writer counted.)
inline constexpr char kCounterTotals[] = R"sql(
  SELECT scope, key, environment, period, extract(epoch FROM period_start)::bigint,
         GREATEST(sum(spent_nano_usd), 0)::bigint
  FROM spend_counters WHERE period_start >= $1::timestamptz
  GROUP BY scope, key, environment, period, period_start
)sql";

// The same sums, for only the counters with a row written by a transaction that snapshot $2
// (an earlier read's) could not see, plus the counters named by the parallel arrays $3 scope,
// $4 key, $5 environment, $6 period and $7 period start (unix seconds).
inline constexpr char kChangedCounterTotals[] = R"sql(
  WITH wanted AS (
    SELECT scope, key, environment, period, period_start FROM spend_counters
    WHERE period_start >= $1::timestamptz
      AND NOT pg_visible_in_snapshot(changed_xid, $2::pg_snapshot)
    UNION
    SELECT scope, key, environment, period, to_timestamp(start_unix)
    FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
         AS k(scope, key, environment, period, start_unix)
  )
  SELECT c.scope, c.key, c.environment, c.period, extract(epoch FROM c.period_start)::bigint,
         GREATEST(sum(c.spent_nano_usd), 0)::bigint
  FROM spend_counters c JOIN wanted w USING (scope, key, environment, period, period_start)
  WHERE c.period_start >= $1::timestamptz
  GROUP BY c.scope, c.key, c.environment, c.period, c.period_start
)sql";

// A read's own snapshot (repeatable read: the one its rows come from), as text
// ("xmin:xmax:in-progress ids"): the next read asks for the rows it could not see.
inline constexpr char kReadSnapshot[] = "SELECT pg_current_snapshot()::text";

}  // namespace stepledger::storage::queries

#endif  // STEPLEDGER_SERVER_STORAGE_BUDGET_QUERIES_H_
