-- 0016: budget reservations shared by every replica (docs/BUDGETS.md, "Several replicas").
--
-- A reserving CheckBudget is answered from memory; the replica that made the reservation writes
-- it here within about 50 ms (off the check's path), keyed by the step it is for. The
-- transaction that stores that step marks it settled, whichever replica's writer it is (one
-- UPDATE joined with the group's inserted steps); a step that was stored before its
-- reservation's row existed is found by the owner, which checks its newly written rows against
-- the ledger. Every replica reads the rows changed since its last read on each refresh: other
-- replicas' open reservations hold their estimate on its counters too, and settled ones release
-- the hold wherever it is. Expiry needs no write: every replica releases a hold at expires_at.
-- Rows settled or expired more than a minute ago are deleted (by one replica at a time).
CREATE TABLE budget_reservations (
  parent_run_id    text        NOT NULL,
  step_id          text        NOT NULL,
  reservation_id   text        NOT NULL,
  owner            text        NOT NULL,  -- the instance id of the replica holding it
  amount_nano_usd  bigint      NOT NULL CHECK (amount_nano_usd >= 0),
  environment      text        NOT NULL,
  feature          text        NOT NULL,
  team             text        NOT NULL,
  tenant           text        NOT NULL,
  created_at       timestamptz NOT NULL,  -- the check's time: its periods are the held ones
  expires_at       timestamptz NOT NULL,
  written_at       timestamptz NOT NULL DEFAULT now(),
  settled_at       timestamptz,
  -- The transaction that last wrote the row: a refresh reads only rows whose writer its last
  -- read's snapshot could not see (as spend_counters.changed_xid, migration 0011).
  changed_xid      xid8        NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (parent_run_id, step_id)
);
CREATE INDEX budget_reservations_changed ON budget_reservations (changed_xid);
