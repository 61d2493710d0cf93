-- 0012: the transaction that stored each acknowledgement, so that each replica's 1 s refresh
-- reads only the acknowledgements stored since its last read instead of the whole table, which
-- only grows (it is the audit trail; rows are never deleted or updated). The reader keeps its
-- read's snapshot and next asks for the rows whose transaction that snapshot could not see, as
-- for the spend counters (0011).
ALTER TABLE acknowledgements ADD COLUMN created_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
