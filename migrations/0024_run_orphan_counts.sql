-- 0024: the orphan gauge (stepledger_orphan_steps) counts only the runs that changed since its
-- last count and keeps each run's count, instead of recounting every step of the last hour on
-- every upkeep tick (a cost that grew with traffic: 2.4 s per tick for 450,000 steps;
-- docs/PERFORMANCE.md, "Orphan gauge: only changed runs are recounted").
--
-- runs.orphan_steps: the run's steps whose parent step is not stored, as of the last recount
-- (server/storage/run_upkeep.cc). 0 before the first recount: a constant default, so adding the
-- column rewrites nothing. The first recount after this migration counts every run of the
-- window (run_orphan_mark.counted_in is NULL until then).
ALTER TABLE runs ADD COLUMN orphan_steps bigint NOT NULL DEFAULT 0;

-- runs.changed_xid: the transaction that last added steps to the run, stamped by the write
-- path's runs upsert (kClaimEvents), as 0011 does for spend_counters. Added without a default
-- and then given one: `ADD COLUMN ... DEFAULT pg_current_xact_id()` (a volatile default) would
-- rewrite the whole table under an exclusive lock. Rows from before this migration keep NULL:
-- "not changed since"; the first recount counts them by the window instead.
ALTER TABLE runs ADD COLUMN changed_xid xid8;
ALTER TABLE runs ALTER COLUMN changed_xid SET DEFAULT pg_current_xact_id();

-- The recount finds the changed runs by this index instead of reading the window's runs.
-- An update of runs by the write path always changes last_received_at, which runs_last_received
-- indexes, so those updates were never HOT: this index adds one entry per run and group, no
-- lost HOT update (measured in docs/PERFORMANCE.md).
CREATE INDEX runs_changed ON runs (changed_xid);

-- The gauge is the sum over the window's runs that have orphans (normally few: an orphan is a
-- bug in a caller's instrumentation), read without touching the runs that have none.
CREATE INDEX runs_with_orphans ON runs (last_received_at) INCLUDE (orphan_steps)
  WHERE orphan_steps > 0;

-- Where the last recount left off, shared by every replica: the snapshot its count ran in. A
-- restarted collector or another replica continues from it instead of recounting the window.
-- One row. counted_in NULL: never recounted.
CREATE TABLE run_orphan_mark (
  only_row   boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
  counted_in pg_snapshot,
  counted_at timestamptz
);
INSERT INTO run_orphan_mark (only_row) VALUES (true);
