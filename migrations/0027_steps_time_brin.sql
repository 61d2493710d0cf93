-- 0027: `steps` finds time ranges through a BRIN index on occurred_at instead of the B-tree
-- steps_charged (occurred_at, charged_team, charged_feature).
--
-- Why: the orphan recount (kRecountRunOrphans, every upkeep tick) finds each changed run's steps
-- by steps_run, bounded by the run's first_seen and last_seen so that only the run's own day
-- partitions are read. On a day partition that has not been analyzed yet (the first minutes of
-- every UTC day, a new deployment, a restore) the planner has no statistics to tell the two
-- indexes apart and may take steps_charged for that bound: a scan of every step received in
-- the run's time range, for every changed run. Under sustained ingest that one tick ran for
-- over five minutes on a core and halved ingest (docs/PERFORMANCE.md, "The orphan recount on a
-- day without statistics"). A BRIN index is read only through a bitmap, which the recount turns
-- off, so steps_run is its only index path.
--
-- What else changes: every stored step inserted into a random place of a three-column B-tree
-- (occurred_at is not arrival order); a BRIN entry is updated once per 128 pages. The readers
-- of time ranges (repricing, budget back-fill, rollups and exports by day) read whole days or
-- large parts of them, where a BRIN bitmap or a partition scan is what the B-tree gave them;
-- nothing looks steps up by team or feature through this index.
DROP INDEX steps_charged;
CREATE INDEX steps_occurred_at ON steps USING brin (occurred_at);
