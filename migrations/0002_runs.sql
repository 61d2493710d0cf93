-- 0002: runs (one row per agent run, maintained in the same transaction as its steps), tag
-- inheritance from the run's root, tag drift, and the timeout of pending inheritance.

ALTER TABLE steps DROP CONSTRAINT steps_attribution_status_check;
ALTER TABLE steps ADD CONSTRAINT steps_attribution_status_check
  CHECK (attribution_status IN ('complete', 'inherited', 'pending', 'defaulted', 'quarantined'));
-- Why a step is unattributed when it is ('root_never_arrived'), else ''.
ALTER TABLE steps ADD COLUMN attribution_reason text NOT NULL DEFAULT '';
-- The step's own feature/team/tenant disagree with its run root's: charged to the root's.
ALTER TABLE steps ADD COLUMN tag_drift boolean NOT NULL DEFAULT false;
-- Pending steps are few and looked up by age for the timeout.
CREATE INDEX steps_pending ON steps (received_at) WHERE attribution_status = 'pending';

-- One row per run. Counts and costs are sums over the run's rows in `steps`, updated by the
-- write path in the transaction that inserts the steps, so the table never disagrees with the
-- ledger (an integration test recomputes it from the ledger and compares).
-- On Citus, runs and steps would both be distributed by parent_run_id.
CREATE TABLE runs (
  parent_run_id          text        PRIMARY KEY,
  first_seen             timestamptz NOT NULL,   -- earliest occurred_at of its steps
  last_seen              timestamptz NOT NULL,   -- latest occurred_at
  last_received_at       timestamptz NOT NULL,
  root_step_id           text,                   -- NULL until the root (no parent) arrives
  root_event_id          text,
  -- Who pays for the whole run: the root's tags. NULL until the root arrives.
  charged_feature        text,
  charged_team           text,
  charged_workload_class text,
  charged_tenant         text,
  environment            text        NOT NULL,
  step_count             bigint      NOT NULL,
  total_cost_nano_usd    bigint      NOT NULL,   -- priced steps only; see unpriced_steps
  unpriced_steps         bigint      NOT NULL,
  retry_steps            bigint      NOT NULL,   -- attempt > 1
  retry_cost_nano_usd    bigint      NOT NULL,
  drift_steps            bigint      NOT NULL,
  pending_steps          bigint      NOT NULL,
  status                 text        NOT NULL    -- 'rooted' once the root is known, else 'open'
);
CREATE INDEX runs_last_received ON runs (last_received_at);
