# shellcheck shell=bash
# The two database roles of a local cluster (docs/OPERATING.md, "Database roles"), sourced by
# run.sh. The cluster's superuser owns the schema and runs the migrations
# (--migration-database-url); the collector runs as a login role that holds only
# stepledger_app (DML on the tables, EXECUTE on the partition and retention functions:
# migration 0022), so it cannot run DDL.

DB_ROLES_RUNTIME_USER=stepledger_collector

# Creates stepledger_app and the runtime login role if missing and grants the one to the
# other. Idempotent. Prints the runtime role's URL: OWNER_URL with its user replaced.
db_roles_init() {
  local owner_url=$1 user=$DB_ROLES_RUNTIME_USER
  "${STEPLEDGER_PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -X -q -v ON_ERROR_STOP=1 "$owner_url" \
    >/dev/null <<SQL || return 1
SET client_min_messages = warning;  -- not "already a member" at every start
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'stepledger_app') THEN
    CREATE ROLE stepledger_app NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$user') THEN
    CREATE ROLE $user LOGIN;
  END IF;
END
\$\$;
GRANT stepledger_app TO $user;
SQL
  # postgresql://OWNER@host... -> postgresql://RUNTIME@host...
  echo "${owner_url%%://*}://$user@${owner_url#*@}"
}
