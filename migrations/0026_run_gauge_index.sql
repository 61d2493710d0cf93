-- 0026: the run gauges (stepledger_open_runs, stepledger_pending_steps, stepledger_drift_steps)
-- read only the runs that have something to count.
--
-- Every upkeep tick (30 s) each replica summed the open runs, pending steps and drifted steps
-- over every run received in the last 24 hours (kOpenRunStats): a scan of a day's runs per tick
-- and replica, growing with traffic, when nearly every run is rooted, with nothing pending and
-- no drift, and adds 0. This partial index holds only the runs that add something, so the sum
-- reads those. A run enters it while open, pending or drifted and leaves it when resolved;
-- the write path's runs updates were never HOT (they move last_received_at, indexed by
-- runs_last_received), so the index costs an entry only for the runs in it.
CREATE INDEX runs_to_watch ON runs (last_received_at) INCLUDE (status, pending_steps, drift_steps)
  WHERE status = 'open' OR pending_steps > 0 OR drift_steps > 0;
