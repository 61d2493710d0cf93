-- 0007: the write path asks "does any cap watch this (scope, key, environment)?" for every
-- scope of every stored step; without this index that is a scan of every cap.
CREATE INDEX budgets_scope_key_environment ON budgets (scope, key, environment);
