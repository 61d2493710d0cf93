-- 0022: the collector's runtime role runs no DDL (docs/OPERATING.md, "Database roles").
--
-- Migrations run as the owner role (--migration-database-url, or --database-url when there is
-- only one role). The collector's runtime role needs only DML on the tables, the sequences of
-- their bigserial keys, and EXECUTE on the SECURITY DEFINER functions that do the two DDL
-- jobs of its running life: creating a new day's ledger partition (below) and retiring an old
-- one (retire_ledger_day, 0020). Those rights are held by the group role stepledger_app; an
-- operator grants it to the login role the collector uses (GRANT stepledger_app TO ...).
--
-- stepledger_app is created here when the migrating role may create roles (a superuser or
-- CREATEROLE); otherwise the operator creates it first (the SQL is in docs/OPERATING.md) and
-- this migration grants to it, or, when it does not exist at all, grants nothing: a
-- single-role install (a dev superuser) keeps working as before. Default privileges make
-- every table, sequence and partition the owner creates later readable and writable by
-- stepledger_app too, so later migrations need no grants of their own.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stepledger_app') AND
     EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND
             (rolsuper OR rolcreaterole)) THEN
    BEGIN
      CREATE ROLE stepledger_app NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;  -- created meanwhile by a migration of another database in the same cluster
    END;
  END IF;
END
$$;

-- Creates the missing daily partitions of the ledger among `days` (steps_pYYYYMMDD, covering
-- [day 00:00 UTC, next day 00:00 UTC)), as the owner of the migrations. Takes the same
-- transaction-scoped advisory lock as before (storage/partitions.cc), so writers and replicas
-- asking for the same day never race. Returns how many it created.
CREATE FUNCTION ensure_ledger_partitions(days date[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  d date;
  partition_name text;
  created integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(x'5354504c50415254'::bigint);  -- "STPLPART"
  FOREACH d IN ARRAY days LOOP
    partition_name := 'steps_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF steps FOR VALUES FROM (%L) TO (%L)',
                     partition_name, to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00',
                     to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$$;

-- The owner's SECURITY DEFINER functions only for the owner and stepledger_app.
REVOKE ALL ON FUNCTION ensure_ledger_partitions(date[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION retire_ledger_day(date, text) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stepledger_app') THEN
    GRANT USAGE ON SCHEMA public TO stepledger_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO stepledger_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO stepledger_app;
    GRANT EXECUTE ON FUNCTION ensure_ledger_partitions(date[]) TO stepledger_app;
    GRANT EXECUTE ON FUNCTION retire_ledger_day(date, text) TO stepledger_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public
      GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO stepledger_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO stepledger_app;
  END IF;
END
$$;
