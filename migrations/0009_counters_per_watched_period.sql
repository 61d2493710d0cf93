-- 0009: writers now keep spend counters only for the (scope, key, environment, period) a cap
-- watches, not for both periods of every watched key. Rows of a period no cap watches would
-- go stale, and a cap for that period added later would trust them instead of back-filling
-- from the ledger, so they go now.
DELETE FROM spend_counters c
WHERE NOT EXISTS (SELECT 1 FROM budgets b
                  WHERE b.scope = c.scope AND b.key = c.key AND b.environment = c.environment
                    AND b.period = c.period);
