#!/usr/bin/env bash
# `make run`: the collector in the foreground against a lasting private PostgreSQL cluster.
#
# The cluster lives in .var/pg in the checkout, on port ${STEPLEDGER_PG_PORT:-55432}, with
# production durability (fsync on). Running this again reuses it: started if stopped, left
# alone if running. `make clean` keeps it; `make distclean` deletes it.
#
# As root the cluster runs as the `postgres` user, which must be able to reach .var/pg. When it
# cannot (a checkout under /root, mode 700) the cluster goes to /tmp/stepledger-<hash of the
# checkout path> instead, and this script says so.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=deploy/local/examples.sh
source "$(dirname "${BASH_SOURCE[0]}")/examples.sh"
# shellcheck source=deploy/local/db_roles.sh
source "$(dirname "${BASH_SOURCE[0]}")/db_roles.sh"
cd "$STEPLEDGER_ROOT"

PG_PORT=${STEPLEDGER_PG_PORT:-55432}
BUILD_DIR="$STEPLEDGER_ROOT/build/release"
COLLECTOR="$BUILD_DIR/server/stepledger-collector"
CLIENT="$BUILD_DIR/client/stepledger"
# What the collector listens on: its own defaults, which it also reads from these variables.
GRPC_LISTEN=${STEPLEDGER_GRPC_LISTEN:-127.0.0.1:50051}
METRICS_LISTEN=${STEPLEDGER_METRICS_LISTEN:-127.0.0.1:9464}

[[ -x $COLLECTOR ]] || { echo "run.sh: $COLLECTOR is missing (run make build)" >&2; exit 1; }

# Picks the cluster directory; see the header.
pg_dir() {
  local dir="$STEPLEDGER_ROOT/.var/pg"
  if [[ $(id -u) -eq 0 ]]; then
    mkdir -p "$STEPLEDGER_ROOT/.var"
    chmod 755 "$STEPLEDGER_ROOT/.var"  # a umask of 077 would otherwise lock postgres out
    if ! runuser -u postgres -- test -x "$STEPLEDGER_ROOT/.var"; then
      local hash
      hash=$(printf '%s' "$STEPLEDGER_ROOT" | sha256sum | cut -c1-12)
      dir="/tmp/stepledger-$hash"
      {
        echo "run.sh: the postgres user cannot reach $STEPLEDGER_ROOT (a parent directory is"
        echo "        not traversable), so the cluster lives in $dir instead of .var/pg"
      } >&2
    fi
  fi
  echo "$dir"
}

PG_DIR=$(pg_dir)
if ! bash "$PG_SH" start "$PG_DIR" "$PG_PORT"; then
  echo "run.sh: if port $PG_PORT is taken by something else, choose another with" \
    "STEPLEDGER_PG_PORT=NNNNN make run" >&2
  exit 1
fi
DATABASE_URL=$(bash "$PG_SH" url "$PG_DIR" "$PG_PORT")
# The superuser migrates; the collector runs as a role without DDL rights (db_roles.sh).
RUNTIME_URL=$(db_roles_init "$DATABASE_URL") || {
  echo "run.sh: cannot create the collector's database role" >&2
  exit 1
}

# TLS and keys (docs/SECURITY.md): a local CA, the collector's certificate and the bootstrap
# admin key, made once under .var/security; the CLI below and in the tour uses them through
# the environment.
# shellcheck source=deploy/local/security.sh
source "$STEPLEDGER_ROOT/deploy/local/security.sh"
SEC_DIR="$STEPLEDGER_ROOT/.var/security"
security_init "$SEC_DIR"
export STEPLEDGER_CA_CERT="$SEC_DIR/ca.pem" STEPLEDGER_API_KEY_FILE="$SEC_DIR/admin.key"

cat <<INFO

stepledger (local)
  gRPC        $GRPC_LISTEN
  metrics     http://$METRICS_LISTEN/metrics
  database    $DATABASE_URL (owner: migrations)
              $RUNTIME_URL (the collector: no DDL)
  psql        psql '$DATABASE_URL'
  PostgreSQL  data in $PG_DIR/data, log in $PG_DIR/postgres.log
              (keeps running after the collector exits; stop it with:
               bash deploy/local/pg.sh stop '$PG_DIR')
  TLS         CA $SEC_DIR/ca.pem, certificate $SEC_DIR/server.pem (re-read when replaced)
  keys        admin $SEC_DIR/admin.key; example keys $SEC_DIR/{ingest,check,report-read,budget-admin}.key
  CLI         export STEPLEDGER_CA_CERT=$SEC_DIR/ca.pem STEPLEDGER_API_KEY_FILE=$SEC_DIR/admin.key
              (or STEPLEDGER_API_KEY=\$(cat $SEC_DIR/ingest.key) for a narrower key)
  send steps  $CLIENT send examples/steps.jsonl

INFO

# ---- HOOK: examples --------------------------------------------------------------------------
# Once the collector answers (it applies the migrations and loads caps before it listens), and
# only into an empty database: applies examples/budgets.json and sends the example run
# (examples/steps.jsonl) re-dated to today, so `budget list` shows spend in the current period.
# A database that already holds caps or steps is left alone, loudly (deploy/local/examples.sh).
# In the background: the collector takes over this process below. The loader stays in the
# foreground process group, so Ctrl-C stops it too.
examples_load "$CLIENT" "${GRPC_LISTEN%:*}:${GRPC_LISTEN##*:}" "$DATABASE_URL" &
security_example_keys "$CLIENT" "$GRPC_LISTEN" "$SEC_DIR" &
# ---- end of HOOK ----------------------------------------------------------------------------

# Prices: the shipped catalogs (docs/PRICING.md): edit them and `kill -HUP` the collector to
# store a new price version. Not when the newest stored version came from a catalog loaded
# since with `stepledger prices load`: a restart must not undo it (deploy/local/examples.sh).
SHIPPED_CATALOG="$STEPLEDGER_ROOT/catalog/model_prices_and_context_window.json"
PRICE_FLAGS=(--price-catalog="$SHIPPED_CATALOG"
  --tool-prices="$STEPLEDGER_ROOT/catalog/tool_prices.txt")
price_source=$(examples_price_source "$DATABASE_URL" "$SHIPPED_CATALOG") || price_source=shipped
if [[ $price_source != shipped ]]; then
  {
    echo "run.sh: prices: the newest stored price version came from $price_source, so the"
    echo "        collector starts without the shipped catalogs and that version stays in force."
    echo "        Load the shipped ones again with: stepledger prices load --catalog"
    echo "        $SHIPPED_CATALOG --tool-prices catalog/tool_prices.txt"
  } >&2
  PRICE_FLAGS=()
fi
exec "$COLLECTOR" --database-url="$RUNTIME_URL" --migration-database-url="$DATABASE_URL" \
  --tls-cert="$SEC_DIR/server.pem" \
  --tls-key="$SEC_DIR/server.key" --bootstrap-admin-key-file="$SEC_DIR/admin.key" \
  "${PRICE_FLAGS[@]}"
