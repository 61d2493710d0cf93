-- 0020: ledger retention (docs/OPERATING.md, "Retention").
--
-- A day's raw ledger (its steps partition, its event_keys claims, its reprice corrections and
-- its quarantined events) is retired once it is older than the configured retention and its
-- rollup still equals it; the rollups (rollup_daily, rollup_quarantine_daily, rollup_focus_daily,
-- rollup_tool_owner_daily, rollup_days) are kept for ever, so showback, chargeback and FOCUS
-- exports of retired days answer as before. Governance records (budgets, budget_audit,
-- acknowledgements, api_keys, key_audit, invoices) are never retired.
--
-- ledger_retired_days is the record of what went, and the guard that keeps a rollup from
-- re-running over a retired day (it would replace the day's rollup with an empty one).
CREATE TABLE ledger_retired_days (
  day                  date        PRIMARY KEY,
  retired_at           timestamptz NOT NULL DEFAULT now(),
  mode                 text        NOT NULL CHECK (mode IN ('drop', 'detach')),
  steps                bigint      NOT NULL,
  cost_nano_usd        bigint      NOT NULL,  -- steps and reprice corrections, as rolled up
  quarantined          bigint      NOT NULL,
  corrections          bigint      NOT NULL
);

-- 'detach' keeps the day's rows here, as plain tables an operator dumps and drops.
CREATE SCHEMA IF NOT EXISTS ledger_archive;

-- Retires one day, in the caller's transaction. The caller holds the rollup advisory lock, so
-- no rollup of the day runs meanwhile; the ACCESS EXCLUSIVE lock on the day's partition keeps
-- writers of that day out between the check and the drop (bounded by the caller's
-- lock_timeout). Outcomes:
--   'retired'        done
--   'already'        retired before
--   'not_rolled_up'  the day holds entries but was never rolled up
--   'rollup_differs' the ledger no longer equals the day's rollup (late entries since): the
--                    next rollup of the day must run first
-- SECURITY DEFINER: the DROP runs as the owner of the migrations, so the collector's runtime
-- role needs no DDL right (docs/OPERATING.md, "Database roles").
CREATE FUNCTION retire_ledger_day(d date, retire_mode text)
RETURNS TABLE (outcome text, steps bigint, quarantined bigint, corrections bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  partition_name text := 'steps_p' || to_char(d, 'YYYYMMDD');
  lo timestamptz := d::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (d + 1)::timestamp AT TIME ZONE 'UTC';
  has_partition boolean;
  ledger_steps bigint; ledger_cost bigint; ledger_quarantined bigint; ledger_q_cost bigint;
  ledger_corrections bigint;
  rolled_steps bigint; rolled_cost bigint; rolled_quarantined bigint; rolled_q_cost bigint;
BEGIN
  IF retire_mode NOT IN ('drop', 'detach') THEN
    RAISE EXCEPTION 'retire_ledger_day: mode must be drop or detach, not %', retire_mode;
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_retired_days r WHERE r.day = d) THEN
    RETURN QUERY SELECT 'already'::text, 0::bigint, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  has_partition := to_regclass(partition_name) IS NOT NULL;
  IF has_partition THEN
    EXECUTE format('LOCK TABLE %I IN ACCESS EXCLUSIVE MODE', partition_name);
  END IF;

  SELECT count(*) FILTER (WHERE e.entry = 'step'),
         coalesce(sum(e.cost_nano_usd) FILTER (WHERE e.entry <> 'quarantine'), 0),
         count(*) FILTER (WHERE e.entry = 'quarantine'),
         coalesce(sum(e.cost_nano_usd) FILTER (WHERE e.entry = 'quarantine'), 0),
         count(*) FILTER (WHERE e.entry = 'reprice')
    INTO ledger_steps, ledger_cost, ledger_quarantined, ledger_q_cost, ledger_corrections
    FROM ledger_entries e WHERE e.occurred_at >= lo AND e.occurred_at < hi;

  IF ledger_steps + ledger_quarantined + ledger_corrections > 0 THEN
    IF NOT EXISTS (SELECT 1 FROM rollup_days r WHERE r.day = d) THEN
      RETURN QUERY SELECT 'not_rolled_up'::text, ledger_steps, ledger_quarantined,
                          ledger_corrections;
      RETURN;
    END IF;
    SELECT coalesce(sum(r.steps), 0), coalesce(sum(r.cost_nano_usd), 0)
      INTO rolled_steps, rolled_cost FROM rollup_daily r WHERE r.day = d;
    SELECT coalesce(sum(r.events), 0), coalesce(sum(r.cost_nano_usd), 0)
      INTO rolled_quarantined, rolled_q_cost FROM rollup_quarantine_daily r WHERE r.day = d;
    IF (rolled_steps, rolled_cost, rolled_quarantined, rolled_q_cost) IS DISTINCT FROM
       (ledger_steps, ledger_cost, ledger_quarantined, ledger_q_cost) THEN
      RETURN QUERY SELECT 'rollup_differs'::text, ledger_steps, ledger_quarantined,
                          ledger_corrections;
      RETURN;
    END IF;
  END IF;

  IF retire_mode = 'detach' THEN
    EXECUTE format('CREATE TABLE ledger_archive.%I AS SELECT * FROM quarantine q '
                   'WHERE q.occurred_at >= $1 AND q.occurred_at < $2',
                   'quarantine_p' || to_char(d, 'YYYYMMDD')) USING lo, hi;
    EXECUTE format('CREATE TABLE ledger_archive.%I AS SELECT * FROM cost_corrections c '
                   'WHERE c.occurred_at >= $1 AND c.occurred_at < $2',
                   'cost_corrections_p' || to_char(d, 'YYYYMMDD')) USING lo, hi;
  END IF;
  DELETE FROM cost_corrections c WHERE c.occurred_at >= lo AND c.occurred_at < hi;
  DELETE FROM quarantine q WHERE q.occurred_at >= lo AND q.occurred_at < hi;
  DELETE FROM event_keys k WHERE k.occurred_at >= lo AND k.occurred_at < hi;
  IF has_partition THEN
    IF retire_mode = 'detach' THEN
      EXECUTE format('ALTER TABLE steps DETACH PARTITION %I', partition_name);
      EXECUTE format('ALTER TABLE %I SET SCHEMA ledger_archive', partition_name);
    ELSE
      EXECUTE format('DROP TABLE %I', partition_name);
    END IF;
  END IF;
  -- Runs whose every step is gone: their last step is older than the retired day's end and
  -- no kept day can hold one of theirs (retirement goes oldest first).
  DELETE FROM runs r WHERE r.last_seen < hi;
  INSERT INTO ledger_retired_days (day, mode, steps, cost_nano_usd, quarantined, corrections)
    VALUES (d, retire_mode, ledger_steps, ledger_cost, ledger_quarantined, ledger_corrections);
  RETURN QUERY SELECT 'retired'::text, ledger_steps, ledger_quarantined, ledger_corrections;
END
$$;
