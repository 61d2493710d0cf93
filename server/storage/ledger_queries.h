// Named SQL of the write path. Parameters are always bound, never concatenated.
#ifndef STEPLEDGER_SERVER_STORAGE_LEDGER_QUERIES_H_
#define STEPLEDGER_SERVER_STORAGE_LEDGER_QUERIES_H_

#include <array>
#include <string_view>

namespace stepledger::storage::queries {

// The staging table that COPY fills, emptied at every COMMIT. It holds only what the claim
// needs (ids, times, tags, charge, cost): the whole row goes into `steps` once, by a second
// COPY of just the claimed events with the charge the claim settled (PgLedgerStore::CommitOnce).
// Staging every column and then INSERT ... SELECT-ing them into `steps` parsed and wrote each
// row twice; a COPY into `steps` also batches its heap inserts, which INSERT ... SELECT does not
// (docs/PERFORMANCE.md, "Fourth pass").
// Made sure of at the start of every write transaction, not once per connection: behind a
// transaction-mode pooler (pgbouncer) each transaction may run in another server session
// (docs/OPERATING.md, "Connection poolers"). A DO block rather than CREATE ... IF NOT EXISTS,
// whose NOTICE would be printed every time.
inline constexpr char kEnsureStaging[] =
    "DO $$BEGIN IF to_regclass('pg_temp.staging_claims') IS NULL THEN "
    "CREATE TEMP TABLE staging_claims ("
    "seq integer NOT NULL, event_id text NOT NULL, digest bytea NOT NULL, "
    "occurred_at timestamptz NOT NULL, received_at timestamptz NOT NULL, feature text NOT NULL, "
    "team text NOT NULL, workload_class text NOT NULL, tenant text NOT NULL, "
    "environment text NOT NULL, parent_run_id text NOT NULL, charged_feature text NOT NULL, "
    "charged_team text NOT NULL, charged_workload_class text NOT NULL, "
    "charged_tenant text NOT NULL, attribution_status text NOT NULL, step_id text NOT NULL, "
    "parent_step_id text NOT NULL, cost_nano_usd bigint, attempt integer NOT NULL, "
    "tag_drift boolean) ON COMMIT DELETE ROWS; END IF; END$$";

// The staging table's columns in COPY order (tag_drift is set by the charge UPDATEs). They
// begin as kLedgerColumns do (after seq): PgLedgerStore writes both from one function.
inline constexpr std::array<std::string_view, 20> kStagingColumns = {"seq",
                                                                     "event_id",
                                                                     "occurred_at",
                                                                     "received_at",
                                                                     "digest",
                                                                     "feature",
                                                                     "team",
                                                                     "workload_class",
                                                                     "tenant",
                                                                     "environment",
                                                                     "parent_run_id",
                                                                     "charged_feature",
                                                                     "charged_team",
                                                                     "charged_workload_class",
                                                                     "charged_tenant",
                                                                     "attribution_status",
                                                                     "step_id",
                                                                     "parent_step_id",
                                                                     "cost_nano_usd",
                                                                     "attempt"};

// The ledger's columns in the order the claimed events are COPYed into `steps`
// (attribution_reason keeps its default: only the pending timeout sets it).
inline constexpr std::array<std::string_view, 42> kLedgerColumns = {"event_id",
                                                                    "occurred_at",
                                                                    "received_at",
                                                                    "digest",
                                                                    "feature",
                                                                    "team",
                                                                    "workload_class",
                                                                    "tenant",
                                                                    "environment",
                                                                    "parent_run_id",
                                                                    "charged_feature",
                                                                    "charged_team",
                                                                    "charged_workload_class",
                                                                    "charged_tenant",
                                                                    "attribution_status",
                                                                    "step_id",
                                                                    "parent_step_id",
                                                                    "kind",
                                                                    "name",
                                                                    "provider",
                                                                    "model",
                                                                    "input_uncached_tokens",
                                                                    "cache_read_tokens",
                                                                    "cache_write_tokens",
                                                                    "output_tokens",
                                                                    "reasoning_tokens",
                                                                    "reported_cost_nano_usd",
                                                                    "cost_nano_usd",
                                                                    "cost_source",
                                                                    "price_version",
                                                                    "tool_name",
                                                                    "tool_owner_team",
                                                                    "status",
                                                                    "operation_id",
                                                                    "attempt",
                                                                    "started_at",
                                                                    "ended_at",
                                                                    "attributes",
                                                                    "tag_drift",
                                                                    "unpriced_reason",
                                                                    "service_tier",
                                                                    "tool_units"};

// Inheritance and "who pays", before the claim: a non-root step of a run whose root is
// already stored is charged to the root's tags; pending steps become inherited; a step whose
// own feature/team/tenant disagree with the root's is flagged as tag drift.
// (In an UPDATE every SET expression reads the row's old values.)
// The group's runs are looked up one by one by primary key (the LATERAL subquery with LIMIT is
// never flattened into a join). Joined to `runs` as a whole, the planner hashed every stored
// run for every write group while the table held up to about a million runs: 90 ms per group
// of 6,000 events at 165,000 runs, growing with the ledger (docs/PERFORMANCE.md, "Sustained
// ingest").
inline constexpr char kChargeToStoredRoots[] = R"sql(
  UPDATE staging_claims s SET
    charged_feature = r.charged_feature, charged_team = r.charged_team,
    charged_workload_class = r.charged_workload_class, charged_tenant = r.charged_tenant,
    tag_drift = (s.attribution_status <> 'pending' AND (s.feature, s.team, s.tenant)
                 IS DISTINCT FROM (r.charged_feature, r.charged_team, r.charged_tenant)),
    attribution_status = CASE WHEN s.attribution_status = 'pending' THEN 'inherited'
                              ELSE s.attribution_status END
  FROM (SELECT g.parent_run_id, k.charged_feature, k.charged_team, k.charged_workload_class,
               k.charged_tenant
        FROM (SELECT DISTINCT parent_run_id FROM staging_claims WHERE parent_step_id <> '') g
        CROSS JOIN LATERAL (
          SELECT x.charged_feature, x.charged_team, x.charged_workload_class, x.charged_tenant
          FROM runs x WHERE x.parent_run_id = g.parent_run_id AND x.root_step_id IS NOT NULL
          LIMIT 1) k) r
  WHERE r.parent_run_id = s.parent_run_id AND s.parent_step_id <> ''
    -- Rows already charged to the root's tags (the common case: a step carries its run's
    -- tags) are left alone: nothing would change.
    AND (s.attribution_status = 'pending'
         OR (s.charged_feature, s.charged_team, s.charged_workload_class, s.charged_tenant)
            IS DISTINCT FROM (r.charged_feature, r.charged_team, r.charged_workload_class,
                              r.charged_tenant))
)sql";

// The same for runs whose root arrives in this very group (and was not stored before).
inline constexpr char kChargeToStagedRoots[] = R"sql(
  UPDATE staging_claims s SET
    charged_feature = r.feature, charged_team = r.team,
    charged_workload_class = r.workload_class, charged_tenant = r.tenant,
    tag_drift = (s.attribution_status <> 'pending' AND (s.feature, s.team, s.tenant)
                 IS DISTINCT FROM (r.feature, r.team, r.tenant)),
    attribution_status = CASE WHEN s.attribution_status = 'pending' THEN 'inherited'
                              ELSE s.attribution_status END
  FROM (SELECT DISTINCT ON (parent_run_id) parent_run_id, feature, team, workload_class, tenant
        FROM staging_claims WHERE parent_step_id = '' ORDER BY parent_run_id, seq) r
  WHERE r.parent_run_id = s.parent_run_id AND s.parent_step_id <> ''
    AND (s.attribution_status = 'pending'
         OR (s.charged_feature, s.charged_team, s.charged_workload_class, s.charged_tenant)
            IS DISTINCT FROM (r.feature, r.team, r.workload_class, r.tenant))
    AND NOT EXISTS (SELECT 1 FROM runs x
                    WHERE x.parent_run_id = s.parent_run_id AND x.root_step_id IS NOT NULL)
)sql";

// Claims each staged event_id and adds the claimed events to their runs, their spend counters
// and their reservations; the store then COPYs the claimed rows into `steps` (with the charge,
// status and drift returned here) before anything reads them. The staging table holds each id
// at most once (the store stages only the first occurrence of an id in a group). Sorting by
// event_id (keys) and parent_run_id (runs) gives concurrent writers one lock order, so two
// groups sharing ids or runs wait for each other instead of deadlocking. Returns the claimed
// ids, whether each is a run root, its run, and how the ledger charges it.
// $1: this writer's spend-counter owner id.
inline constexpr char kClaimEvents[] = R"sql(
  WITH claimed AS (
    INSERT INTO event_keys (event_id, digest, occurred_at, received_at)
    SELECT event_id, digest, occurred_at, received_at FROM staging_claims ORDER BY event_id
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
  ), ins AS (
    -- The claimed events as the ledger will store them; the store COPYs their rows into
    -- `steps` right after this statement, in the same transaction.
    SELECT f.event_id, f.parent_run_id, f.parent_step_id, f.step_id, f.occurred_at,
           f.received_at, f.cost_nano_usd, f.attempt, COALESCE(f.tag_drift, false) AS tag_drift,
           f.attribution_status, f.environment, f.charged_feature, f.charged_team,
           f.charged_workload_class, f.charged_tenant
    FROM staging_claims f JOIN claimed c USING (event_id)
  ), run_delta AS (
    -- A run's root (the first by event_id if a client sent two) gives the run its charge.
    INSERT INTO runs AS r (
      parent_run_id, first_seen, last_seen, last_received_at, root_step_id, root_event_id,
      charged_feature, charged_team, charged_workload_class, charged_tenant, environment,
      step_count, total_cost_nano_usd, unpriced_steps, retry_steps, retry_cost_nano_usd,
      drift_steps, pending_steps, status)
    SELECT
      a.parent_run_id, a.first_seen, a.last_seen, a.last_received_at, root.step_id,
      root.event_id, root.charged_feature, root.charged_team, root.charged_workload_class,
      root.charged_tenant, a.environment, a.step_count, a.total_cost_nano_usd, a.unpriced_steps,
      a.retry_steps, a.retry_cost_nano_usd, a.drift_steps, a.pending_steps,
      CASE WHEN root.step_id IS NULL THEN 'open' ELSE 'rooted' END
    FROM (SELECT parent_run_id, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
                 max(received_at) AS last_received_at, min(environment) AS environment,
                 count(*) AS step_count, COALESCE(sum(cost_nano_usd), 0) AS total_cost_nano_usd,
                 count(*) FILTER (WHERE cost_nano_usd IS NULL) AS unpriced_steps,
                 count(*) FILTER (WHERE attempt > 1) AS retry_steps,
                 COALESCE(sum(cost_nano_usd) FILTER (WHERE attempt > 1), 0) AS retry_cost_nano_usd,
                 count(*) FILTER (WHERE tag_drift) AS drift_steps,
                 count(*) FILTER (WHERE attribution_status = 'pending') AS pending_steps
          FROM ins GROUP BY parent_run_id) a
    LEFT JOIN (SELECT DISTINCT ON (parent_run_id) parent_run_id, step_id, event_id,
                      charged_feature, charged_team, charged_workload_class, charged_tenant
               FROM ins WHERE parent_step_id = '' ORDER BY parent_run_id, event_id) root
           USING (parent_run_id)
    ORDER BY a.parent_run_id
    ON CONFLICT (parent_run_id) DO UPDATE SET
      first_seen = LEAST(r.first_seen, EXCLUDED.first_seen),
      last_seen = GREATEST(r.last_seen, EXCLUDED.last_seen),
      last_received_at = GREATEST(r.last_received_at, EXCLUDED.last_received_at),
      root_step_id = COALESCE(r.root_step_id, EXCLUDED.root_step_id),
      root_event_id = COALESCE(r.root_event_id, EXCLUDED.root_event_id),
      charged_feature = COALESCE(r.charged_feature, EXCLUDED.charged_feature),
      charged_team = COALESCE(r.charged_team, EXCLUDED.charged_team),
      charged_workload_class = COALESCE(r.charged_workload_class, EXCLUDED.charged_workload_class),
      charged_tenant = COALESCE(r.charged_tenant, EXCLUDED.charged_tenant),
      step_count = r.step_count + EXCLUDED.step_count,
      total_cost_nano_usd = r.total_cost_nano_usd + EXCLUDED.total_cost_nano_usd,
      unpriced_steps = r.unpriced_steps + EXCLUDED.unpriced_steps,
      retry_steps = r.retry_steps + EXCLUDED.retry_steps,
      retry_cost_nano_usd = r.retry_cost_nano_usd + EXCLUDED.retry_cost_nano_usd,
      drift_steps = r.drift_steps + EXCLUDED.drift_steps,
      pending_steps = r.pending_steps + EXCLUDED.pending_steps,
      status = CASE WHEN COALESCE(r.root_step_id, EXCLUDED.root_step_id) IS NULL THEN 'open'
                    ELSE 'rooted' END,
      -- What the orphan recount watches (0024; an insert stamps by the column's default).
      changed_xid = pg_current_xact_id()
    RETURNING r.parent_run_id, r.step_count
  ), counter_delta AS (
    -- Budget spend counters of every charged key, watched by a cap or not (migration 0013: a
    -- cap added later reads them instead of recounting the ledger), in this writer's own rows
    -- ($1 = owner) so writers never wait on each other here. The group is summed per charged
    -- tags and day first (a run's steps share them): one upsert per distinct key and period.
    INSERT INTO spend_counters AS c (owner, scope, key, environment, period, period_start,
                                     spent_nano_usd)
    SELECT $1, x.scope, x.key, d.environment, p.period, p.start, sum(d.spent)
    FROM (SELECT environment, charged_feature, charged_team, charged_tenant,
                 date_trunc('day', occurred_at, 'UTC') AS day, sum(cost_nano_usd) AS spent
          FROM ins WHERE cost_nano_usd IS NOT NULL
          GROUP BY 1, 2, 3, 4, 5) d
    CROSS JOIN LATERAL (VALUES ('feature', d.charged_feature), ('team', d.charged_team),
                               ('tenant', d.charged_tenant), ('org', '*')) AS x(scope, key)
    CROSS JOIN LATERAL (VALUES ('daily', d.day),
                               ('monthly', date_trunc('month', d.day, 'UTC'))) AS p(period, start)
    WHERE x.key <> ''
    GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6
    ON CONFLICT (owner, scope, key, environment, period, period_start) DO UPDATE SET
      spent_nano_usd = c.spent_nano_usd + EXCLUDED.spent_nano_usd, updated_at = now(),
      changed_xid = pg_current_xact_id()  -- what the incremental counter read watches (0011)
    RETURNING 1
  ), settled AS (
    -- A stored step settles its budget reservation, whichever replica made it (migration
    -- 0016); every replica reads the change on its next refresh. SKIP LOCKED: a row a retried
    -- check is rewriting is left to its owner's re-check against the ledger, so this never waits.
    UPDATE budget_reservations r SET settled_at = now(), changed_xid = pg_current_xact_id()
    FROM (SELECT x.parent_run_id, x.step_id FROM budget_reservations x
          JOIN ins USING (parent_run_id, step_id)
          WHERE x.settled_at IS NULL ORDER BY 1, 2 FOR UPDATE OF x SKIP LOCKED) h
    WHERE r.parent_run_id = h.parent_run_id AND r.step_id = h.step_id
    RETURNING 1
  )
  -- run_delta, counter_delta and settled run to completion although they are not read
  -- (PostgreSQL's rule for data-modifying WITH clauses).
  -- had_earlier_steps: the run already had stored steps before this group (its step count
  -- now exceeds what this group added), so a root arriving now may have to re-charge them.
  SELECT i.event_id, i.parent_step_id = '' AS is_root, i.parent_run_id, i.attribution_status,
         i.tag_drift,
         d.step_count > count(*) OVER (PARTITION BY i.parent_run_id) AS had_earlier_steps,
         i.charged_feature, i.charged_team, i.charged_workload_class, i.charged_tenant
  FROM ins i JOIN run_delta d USING (parent_run_id)
)sql";

// A root arrived after some of its run's steps: charge those to the root's tags, resolve
// pending (and timed-out) inheritance, flag drift. $1: text[] of run ids; runs without a root
// are left alone. Also run for runs in which this group stored pending steps: a concurrent
// group may have committed their root after this group's kChargeToStoredRoots looked (see
// PgLedgerStore::CommitOnce).
inline constexpr char kChargeStoredStepsToNewRoots[] = R"sql(
  WITH moving AS (
    SELECT s.parent_run_id, s.event_id, s.occurred_at, s.environment, s.cost_nano_usd,
           s.charged_feature AS old_feature, s.charged_team AS old_team,
           s.charged_tenant AS old_tenant,
           r.charged_feature, r.charged_team, r.charged_workload_class, r.charged_tenant,
           (s.attribution_status NOT IN ('pending', 'quarantined')
            AND (s.feature, s.team, s.tenant)
                IS DISTINCT FROM (r.charged_feature, r.charged_team, r.charged_tenant)) AS drift,
           CASE WHEN s.attribution_status IN ('pending', 'quarantined') THEN 'inherited'
                ELSE s.attribution_status END AS status
    FROM steps s JOIN runs r ON r.parent_run_id = s.parent_run_id
    WHERE r.parent_run_id = ANY($1::text[]) AND r.root_step_id IS NOT NULL
      AND s.parent_run_id = ANY($1::text[]) AND s.parent_step_id <> ''
      AND (s.attribution_status IN ('pending', 'quarantined')
           OR (s.charged_feature, s.charged_team, s.charged_workload_class, s.charged_tenant)
              IS DISTINCT FROM (r.charged_feature, r.charged_team, r.charged_workload_class,
                                r.charged_tenant))
    FOR UPDATE OF s
  ), fixed AS (
    UPDATE steps s SET
      charged_feature = m.charged_feature, charged_team = m.charged_team,
      charged_workload_class = m.charged_workload_class, charged_tenant = m.charged_tenant,
      tag_drift = m.drift, attribution_status = m.status, attribution_reason = ''
    FROM moving m
    -- The run finds the row through steps_run and the time prunes to its day: steps has no
    -- index on event_id (migration 0025).
    WHERE s.parent_run_id = m.parent_run_id AND s.event_id = m.event_id
      AND s.occurred_at = m.occurred_at
    RETURNING s.attribution_status, s.tag_drift, s.parent_run_id
  ), moved AS (
    -- The spend moves with the charge: off the old keys' budget counters, onto the root's
    -- (every key, as at insert). $2 = this writer's owner.
    INSERT INTO spend_counters AS c (owner, scope, key, environment, period, period_start,
                                     spent_nano_usd)
    SELECT $2, x.scope, x.key, m.environment, p.period, p.start, sum(x.sign * m.cost_nano_usd)
    FROM moving m
    CROSS JOIN LATERAL (VALUES ('feature', m.old_feature, -1), ('team', m.old_team, -1),
                               ('tenant', m.old_tenant, -1), ('feature', m.charged_feature, 1),
                               ('team', m.charged_team, 1), ('tenant', m.charged_tenant, 1))
                       AS x(scope, key, sign)
    CROSS JOIN LATERAL (VALUES ('daily', date_trunc('day', m.occurred_at, 'UTC')),
                               ('monthly', date_trunc('month', m.occurred_at, 'UTC')))
                       AS p(period, start)
    WHERE m.cost_nano_usd IS NOT NULL AND x.key <> ''
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.sign * m.cost_nano_usd) <> 0
    ORDER BY 2, 3, 4, 5, 6
    ON CONFLICT (owner, scope, key, environment, period, period_start) DO UPDATE SET
      spent_nano_usd = c.spent_nano_usd + EXCLUDED.spent_nano_usd, updated_at = now(),
      changed_xid = pg_current_xact_id()  -- what the incremental counter read watches (0011)
    RETURNING 1
  )
  SELECT attribution_status, tag_drift, parent_run_id FROM fixed
)sql";

// Recomputes the per-run counts that resolution can change. $1: text[] of run ids.
inline constexpr char kRecountRuns[] = R"sql(
  UPDATE runs r SET pending_steps = c.pending, drift_steps = c.drift
  FROM (SELECT parent_run_id,
               count(*) FILTER (WHERE attribution_status = 'pending') AS pending,
               count(*) FILTER (WHERE tag_drift) AS drift
        FROM steps WHERE parent_run_id = ANY($1::text[]) GROUP BY parent_run_id) c
  WHERE r.parent_run_id = c.parent_run_id
)sql";

// Pending steps whose root never arrived in time become unattributed (they stay in the ledger,
// counted as unattributed spend). $1: cut-off receive time. Returns the affected runs.
inline constexpr char kExpirePending[] = R"sql(
  UPDATE steps SET
    attribution_status = 'quarantined', attribution_reason = 'root_never_arrived',
    charged_feature = '(unattributed)', charged_team = '(unattributed)',
    charged_workload_class = '(unattributed)', charged_tenant = '(unattributed)'
  WHERE attribution_status = 'pending' AND received_at < $1::timestamptz
  RETURNING parent_run_id
)sql";

// Digests of ids that were already claimed (by an earlier group or earlier in this group).
inline constexpr char kStoredDigests[] =
    "SELECT event_id, encode(digest, 'hex') FROM event_keys WHERE event_id = ANY($1::text[])";

// Every quarantined event of a group in one statement (a rejected 1,000-event batch is one
// round trip, not 1,000). $1..$10 are parallel text arrays, one element per row; an empty cost
// is NULL (not reported). Returns the digests actually inserted: the others were quarantined
// before (quarantine is unique on the digest).
inline constexpr char kInsertQuarantineRows[] = R"sql(
  INSERT INTO quarantine (event_id, digest, received_at, occurred_at, field, reason,
                          environment, parent_run_id, cost_nano_usd, event)
  SELECT q.event_id, decode(q.digest, 'hex'), q.received_at::timestamptz,
         q.occurred_at::timestamptz, q.field, q.reason, q.environment, q.parent_run_id,
         NULLIF(q.cost, '')::bigint, q.event::jsonb
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::text[], $9::text[], $10::text[])
       AS q(event_id, digest, received_at, occurred_at, field, reason, environment,
            parent_run_id, cost, event)
  ON CONFLICT (digest) DO NOTHING
  RETURNING encode(digest, 'hex')
)sql";

// Gauges over recently active runs. $1: oldest last_received_at considered. Only runs that are
// open, pending or drifted add to them; the same condition as runs_to_watch's (migration 0026)
// lets the planner read that index instead of every run of the window.
inline constexpr char kOpenRunStats[] = R"sql(
  SELECT count(*) FILTER (WHERE status = 'open'),
         COALESCE(sum(pending_steps), 0)::bigint,
         COALESCE(sum(drift_steps), 0)::bigint
  FROM runs
  WHERE last_received_at >= $1::timestamptz
    AND (status = 'open' OR pending_steps > 0 OR drift_steps > 0)
)sql";

// The orphan gauge (stepledger_orphan_steps), in two steps that run in one transaction under the
// run upkeep lock: kRecountRunOrphans counts the runs that changed since the last recount,
// kStoreRunOrphans stores their counts and the recount's snapshot (run_orphan_mark, 0024);
// kOrphanStepsInWindow then sums the stored counts. RecountChangedRunOrphans (run_upkeep.cc)
// says why this is exact under concurrent writers.
//
// kRecountRunOrphans: the runs received since $1 whose runs row was written by a transaction
// that the last recount's snapshot did not see (runs_changed finds them; pg_visible_in_snapshot
// drops those between that snapshot's xmin and xmax that it did see), or, before the first
// recount, every run received since $1. A changed run outside the window is left: the gauge
// does not sum it, and it comes back into the window only by gaining a step, which stamps it
// again (without this, a bulk load or restore of old runs was recounted whole, 10 million steps
// in one tick). For each, the steps whose parent step is not stored. Counted run by
// run: each run's steps and their parents by steps_run, only in the partitions of the run's own
// days (every step of a run occurred between its first_seen and last_seen, so run-time pruning
// skips the others). Written as one join, the planner hashed the whole ledger: with 10 million
// stored steps that was a parallel scan of gigabytes (about 14 s on three processes) that cut
// ingest to a third while it ran. Run with jit off: the estimate is large enough to trigger JIT
// compilation, which cost more than the count itself (docs/PERFORMANCE.md, "Ledger size"). And
// with bitmap scans off: the planner guesses that a run's time range holds 0.5% of a partition
// and ANDs a bitmap of its occurred_at range (from steps_charged then; the BRIN index
// steps_occurred_at would give one too) with steps_run's; when runs overlap in time (runs that last
// minutes, at thousands of steps a second), that range is most of the day's partition, read again
// for every run: over 15 minutes for 25,000 runs of 12 steps spread over an hour, against 0.6-1.5 s
// by steps_run alone (docs/PERFORMANCE.md, "Orphan gauge"). With bitmaps off, steps_run is the only
// index that can find a run's steps: `steps` has no full B-tree that leads with occurred_at
// (migration 0027). When it had one, a day partition without statistics yet let the planner take it
// for the time bound, a scan of the run's whole time range for every run (docs/PERFORMANCE.md,
// "Sustained ingest"). Returns one row: the statement's snapshot, how many
// runs were recounted, and, as array literals for kStoreRunOrphans, the runs whose count changed
// and their new counts.
inline constexpr char kRecountRunOrphans[] = R"sql(
  WITH mark AS MATERIALIZED (SELECT counted_in FROM run_orphan_mark),
  changed AS (
    SELECT r.parent_run_id, r.first_seen, r.last_seen, r.orphan_steps FROM runs r
    WHERE r.changed_xid >= (SELECT pg_snapshot_xmin(counted_in) FROM mark)
      AND NOT pg_visible_in_snapshot(r.changed_xid, (SELECT counted_in FROM mark))
      AND r.last_received_at >= $1::timestamptz
    UNION ALL
    SELECT r.parent_run_id, r.first_seen, r.last_seen, r.orphan_steps FROM runs r
    WHERE (SELECT counted_in IS NULL FROM mark) AND r.last_received_at >= $1::timestamptz
  ), counted AS (
    SELECT c.parent_run_id, c.orphan_steps AS stored, o.orphans
    FROM changed c
    CROSS JOIN LATERAL (
      SELECT count(*) AS orphans FROM steps s
      WHERE s.parent_run_id = c.parent_run_id AND s.parent_step_id <> ''
        AND s.occurred_at BETWEEN c.first_seen AND c.last_seen
        AND NOT EXISTS (SELECT 1 FROM steps p
                        WHERE p.parent_run_id = c.parent_run_id
                          AND p.step_id = s.parent_step_id
                          AND p.occurred_at BETWEEN c.first_seen AND c.last_seen)) o
  )
  SELECT pg_current_snapshot()::text, count(*),
         COALESCE(array_agg(parent_run_id ORDER BY parent_run_id)
                  FILTER (WHERE orphans <> stored), '{}')::text,
         COALESCE(array_agg(orphans ORDER BY parent_run_id)
                  FILTER (WHERE orphans <> stored), '{}')::text
  FROM counted
)sql";

// Stores the recount's results. $1: text[] of runs, $2: bigint[] of their counts, $3: the
// snapshot the counts were taken in. The rows are locked in parent_run_id order first, the
// order in which the write path's runs upsert locks them, so the two wait for each other
// instead of deadlocking. Returns how many runs' counts were written.
inline constexpr char kStoreRunOrphans[] = R"sql(
  WITH c AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS c(parent_run_id, orphans)),
  locked AS (
    SELECT r.parent_run_id FROM runs r WHERE r.parent_run_id IN (SELECT parent_run_id FROM c)
    ORDER BY r.parent_run_id FOR NO KEY UPDATE
  ), stored AS (
    UPDATE runs r SET orphan_steps = c.orphans
    FROM c JOIN locked USING (parent_run_id) WHERE r.parent_run_id = c.parent_run_id
    RETURNING 1
  ), marked AS (
    UPDATE run_orphan_mark SET counted_in = $3::pg_snapshot, counted_at = now() RETURNING 1
  )
  SELECT (SELECT count(*) FROM stored), (SELECT count(*) FROM marked)
)sql";

// The gauge: the stored counts of the runs active since $1 (runs_with_orphans: only the runs
// that have orphans are read).
inline constexpr char kOrphanStepsInWindow[] = R"sql(
  SELECT COALESCE(sum(orphan_steps), 0)::bigint FROM runs
  WHERE last_received_at >= $1::timestamptz AND orphan_steps > 0
)sql";

}  // namespace stepledger::storage::queries

#endif  // STEPLEDGER_SERVER_STORAGE_LEDGER_QUERIES_H_
