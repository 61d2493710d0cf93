-- 0010: a version number that changes with every change to `budgets`, so that each replica's
-- 1 s refresh can skip re-reading every cap when none changed (with 10,000 caps that read was
-- most of an idle collector's CPU). A statement trigger bumps it in the same transaction as
-- the change, whoever makes it (PutBudget, DeleteBudget, a COPY or an edit by hand), so a
-- refresh that reads the version before the caps never misses a change: a change it did not
-- see in the caps has a newer version.
CREATE TABLE budget_caps_version (
  only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version   bigint  NOT NULL
);
INSERT INTO budget_caps_version (only_row, version) VALUES (true, 1);

CREATE FUNCTION bump_budget_caps_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE budget_caps_version SET version = version + 1;
  RETURN NULL;
END
$$;

CREATE TRIGGER budgets_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON budgets
  FOR EACH STATEMENT EXECUTE FUNCTION bump_budget_caps_version();
