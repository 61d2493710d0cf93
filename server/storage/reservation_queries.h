// Named SQL of the budget reservations every replica shares (migrations/0016). The settle by a
// stored step is part of the ledger's claim (ledger_queries.h, kClaimEvents).
#ifndef STEPLEDGER_SERVER_STORAGE_RESERVATION_QUERIES_H_
#define STEPLEDGER_SERVER_STORAGE_RESERVATION_QUERIES_H_

namespace stepledger::storage::queries {

// One row per reservation, from parallel arrays: $1 run, $2 step, $3 reservation id, $4 owner,
// $5 amount, $6 environment, $7 feature, $8 team, $9 tenant, $10 created_at and $11 expires_at
// (unix microseconds). A row replaces an open one of the same step only when it is newer (a
// retried check, possibly on another replica); a settled row stays settled.
inline constexpr char kWriteReservations[] = R"sql(
  INSERT INTO budget_reservations AS r (parent_run_id, step_id, reservation_id, owner,
      amount_nano_usd, environment, feature, team, tenant, created_at, expires_at)
  SELECT run, step, id, owner, amount, env, feature, team, tenant,
         to_timestamp(created / 1e6), to_timestamp(expires / 1e6)
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
              $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[])
       AS n(run, step, id, owner, amount, env, feature, team, tenant, created, expires)
  ORDER BY run, step
  ON CONFLICT (parent_run_id, step_id) DO UPDATE SET
    reservation_id = EXCLUDED.reservation_id, owner = EXCLUDED.owner,
    amount_nano_usd = EXCLUDED.amount_nano_usd, environment = EXCLUDED.environment,
    feature = EXCLUDED.feature, team = EXCLUDED.team, tenant = EXCLUDED.tenant,
    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at, written_at = now(),
    changed_xid = pg_current_xact_id()
  WHERE r.settled_at IS NULL AND r.created_at <= EXCLUDED.created_at
)sql";

// Settles the open rows of owner $1 written since now() - $2 (seconds; 0: by this very
// transaction) whose step is in the ledger: their step's transaction looked for them before
// they were written. The step occurred after its check, give or take clock skew: the day's
// bound lets PostgreSQL probe only the recent partitions of steps_run.
inline constexpr char kSettleStoredReservations[] = R"sql(
  UPDATE budget_reservations r SET settled_at = now(), changed_xid = pg_current_xact_id()
  WHERE r.owner = $1 AND r.settled_at IS NULL
    AND r.written_at >= now() - make_interval(secs => $2::float8)
    AND EXISTS (SELECT 1 FROM steps s
                WHERE s.parent_run_id = r.parent_run_id AND s.step_id = r.step_id
                  AND s.occurred_at >= r.created_at - interval '1 day')
)sql";

// Every row. Columns: run, step, reservation id, owner, amount, environment, feature, team,
// tenant, created_at and expires_at (unix microseconds), settled.
inline constexpr char kSelectReservations[] = R"sql(
  SELECT parent_run_id, step_id, reservation_id, owner, amount_nano_usd, environment, feature,
         team, tenant, (extract(epoch FROM created_at) * 1e6)::bigint,
         (extract(epoch FROM expires_at) * 1e6)::bigint, settled_at IS NOT NULL
  FROM budget_reservations
)sql";

// The same, for only the rows written by transactions that snapshot $1 (an earlier read's)
// could not see: every such writer's xid is at least the snapshot's xmin, which the index finds.
inline constexpr char kSelectChangedReservations[] = R"sql(
  SELECT parent_run_id, step_id, reservation_id, owner, amount_nano_usd, environment, feature,
         team, tenant, (extract(epoch FROM created_at) * 1e6)::bigint,
         (extract(epoch FROM expires_at) * 1e6)::bigint, settled_at IS NOT NULL
  FROM budget_reservations
  WHERE changed_xid >= pg_snapshot_xmin($1::pg_snapshot)
    AND NOT pg_visible_in_snapshot(changed_xid, $1::pg_snapshot)
)sql";

// Rows settled or expired more than $1 seconds ago, at most 10,000 per call (run by the one
// replica that holds the advisory lock below).
inline constexpr char kTryReservationUpkeepLock[] = "SELECT pg_try_advisory_xact_lock($1)";
inline constexpr char kDeleteFinishedReservations[] = R"sql(
  DELETE FROM budget_reservations WHERE ctid IN (
    SELECT ctid FROM budget_reservations
    WHERE (settled_at < now() - make_interval(secs => $1::float8)
           OR expires_at < now() - make_interval(secs => $1::float8))
    LIMIT 10000 FOR UPDATE SKIP LOCKED)
)sql";

}  // namespace stepledger::storage::queries

#endif  // STEPLEDGER_SERVER_STORAGE_RESERVATION_QUERIES_H_
