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

cat <<INFO

stepledger (local)
  gRPC        $GRPC_LISTEN
  metrics     http://$METRICS_LISTEN/metrics
  database    $DATABASE_URL
  psql        psql '$DATABASE_URL'
  PostgreSQL  data in $PG_DIR/data, log in $PG_DIR/postgres.log
              (keeps running after the collector exits; stop it with:
               bash deploy/local/pg.sh stop '$PG_DIR')
  send steps  $CLIENT send examples/steps.jsonl

INFO

# ---- HOOK: example budgets ------------------------------------------------------------------
# Applies examples/budgets.json (docs/BUDGETS.md, "Cap files") once the collector answers (it
# applies the migrations and loads caps before it listens, so applying earlier would fail).
# `budget apply` is idempotent: re-running `make run` reports the caps as unchanged, and caps
# edited since (with `stepledger budget set`) are put back to the file's values.
load_example_budgets() {
  local file=examples/budgets.json
  [[ -f $file ]] || return 0
  if ! [[ -x $CLIENT ]] || ! "$CLIENT" budget --help >/dev/null 2>&1; then
    echo "run.sh: $CLIENT has no 'budget' command (run make build); not loading $file" >&2
    return 0
  fi
  local host=${GRPC_LISTEN%:*} port=${GRPC_LISTEN##*:} _
  for _ in $(seq 1 120); do
    if port_in_use "$port"; then break; fi
    sleep 0.5
  done
  echo "run.sh: applying example budgets from $file" >&2
  for _ in 1 2 3 4 5; do
    if "$CLIENT" --target="$host:$port" budget apply "$file" --by make-run >&2; then
      return 0
    fi
    sleep 1
  done
  echo "run.sh: applying $file failed (the collector keeps running)" >&2
}
# In the background: the collector takes over this process below. The loader stays in the
# foreground process group, so Ctrl-C stops it too.
load_example_budgets &
# ---- end of HOOK ----------------------------------------------------------------------------

# Prices: the shipped catalogs (docs/PRICING.md). Edit them and `kill -HUP` the collector to
# store a new price version.
exec "$COLLECTOR" --database-url="$DATABASE_URL" \
  --price-catalog="$STEPLEDGER_ROOT/catalog/model_prices_and_context_window.json" \
  --tool-prices="$STEPLEDGER_ROOT/catalog/tool_prices.txt"
