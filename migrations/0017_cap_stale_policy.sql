-- 0017: what a cap answers while the counters behind a check are stale (the database away, or
-- the refresh failing for longer than --budget-stale-after): keep answering from memory
-- ('answer'), at least ALERT ('alert'), or REQUIRE_ACK ('require_ack', require_ack caps only).
-- Stored with the cap so that every replica applies the same policy. Existing caps get their
-- action's default (a hard cap fails closed); a row written without it (by hand, or by COPY)
-- reads as that default too (NULL).
ALTER TABLE budgets ADD COLUMN stale_policy text
  CHECK (stale_policy IN ('answer', 'alert', 'require_ack')
         AND (stale_policy <> 'require_ack' OR action = 'require_ack'));
UPDATE budgets SET stale_policy = CASE action WHEN 'require_ack' THEN 'require_ack' ELSE 'alert' END;
