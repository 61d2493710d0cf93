-- 0019: the long Admin operations (StartRollUp, StartReprice, StartWhatIf), so that any
-- replica answers GetOperation for an operation another replica runs (docs/OPERATING.md,
-- "Long operations"). The running replica writes its row as the work progresses and
-- refreshes heartbeat_at every few seconds; a reader takes a running row whose heartbeat is
-- older than the lease as abandoned (its replica died). Rows are deleted an hour after they
-- finish (or were abandoned) by any replica's upkeep.
CREATE TABLE admin_operations (
  id             text        PRIMARY KEY,
  kind           text        NOT NULL,
  state          text        NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
  units_done     bigint      NOT NULL DEFAULT 0,
  units_total    bigint      NOT NULL DEFAULT 0,
  last_unit      text        NOT NULL DEFAULT '',
  result         jsonb,
  error_code     integer     NOT NULL DEFAULT 0,
  error_message  text        NOT NULL DEFAULT '',
  owner          text        NOT NULL,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz,
  heartbeat_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((state = 'running') = (finished_at IS NULL))
);
