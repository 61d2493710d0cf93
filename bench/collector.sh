# Sourced by the bench/*/run.sh scripts: one collector per benchmark, on loopback.
#
#   free_port
#       prints a free TCP port on 127.0.0.1
#   start_bench_collector NAME [FLAG ...]
#       starts $BUILD_DIR's collector on $URL with free gRPC and metrics ports and the FLAGs,
#       logging to a file under /tmp named after NAME; sets COLLECTOR_PID, GRPC_PORT,
#       METRICS_PORT and COLLECTOR_LOG, then waits up to 30 s for "collector ready" (on timeout
#       it prints the log and returns 1). Set a trap that calls stop_bench_collector first.
#       Plaintext without credentials (--insecure --insecure-no-auth) unless BENCH_TLS=1: then
#       TLS with a certificate made as `make run` makes its own (security_init of
#       deploy/local/security.sh, in a temporary directory, BENCH_SECURITY_DIR) and an API key
#       checked on every call. The database's keys are emptied first, so the collector stores
#       that directory's admin.key as its first admin key. Exports STEPLEDGER_CA_CERT and
#       STEPLEDGER_API_KEY_FILE (the admin key), which every client built on client/lib reads
#       (SendAll, the CLI, budget_check_load: client/lib/credentials.h).
#   bench_key ROLE
#       BENCH_TLS=1, after start_bench_collector: makes an API key with role ROLE and scope "*"
#       through the collector (`stepledger keys create`, as `make run` makes its example keys)
#       and prints the path of the file that holds it, for STEPLEDGER_API_KEY_FILE.
#   stop_bench_collector
#       stops it (if started) and removes its log and BENCH_SECURITY_DIR
#   empty_bench_ledger
#       empties the tables an ingest benchmark fills (steps, event_keys, quarantine, runs,
#       spend_counters) on $URL, those that exist: call it before start_bench_collector, so that
#       what the collector reads at start (the budget counters) is what the database holds
#       during the load. On a new database they do not exist yet, and the collector's
#       migrations create them empty.
COLLECTOR_PID=
COLLECTOR_LOG=
BENCH_SECURITY_DIR=

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Sets BENCH_TRANSPORT_FLAGS, the collector's transport flags (see start_bench_collector).
bench_transport_flags() {
  if [[ ${BENCH_TLS:-0} != 1 ]]; then
    BENCH_TRANSPORT_FLAGS=(--insecure --insecure-no-auth)
    return 0
  fi
  # shellcheck source=deploy/local/security.sh
  source "$(dirname "${BASH_SOURCE[0]}")/../deploy/local/security.sh"
  if [[ -z $BENCH_SECURITY_DIR ]]; then
    BENCH_SECURITY_DIR=$(mktemp -d /tmp/stepledger-bench-security.XXXXXX)
    security_init "$BENCH_SECURITY_DIR"
  fi
  # The first key is stored only into an empty key table (a migrated database: after the
  # first collector of the run has started).
  psql -qAt "$URL" -c "DO \$\$ BEGIN IF to_regclass('api_keys') IS NOT NULL THEN
    TRUNCATE api_keys, key_audit; END IF; END \$\$" >/dev/null
  BENCH_TRANSPORT_FLAGS=(--tls-cert="$BENCH_SECURITY_DIR/server.pem"
    --tls-key="$BENCH_SECURITY_DIR/server.key"
    --bootstrap-admin-key-file="$BENCH_SECURITY_DIR/admin.key")
  export STEPLEDGER_CA_CERT="$BENCH_SECURITY_DIR/ca.pem"
  export STEPLEDGER_API_KEY_FILE="$BENCH_SECURITY_DIR/admin.key"
}

start_bench_collector() {
  local name=$1
  shift
  GRPC_PORT=$(free_port)
  METRICS_PORT=$(free_port)
  COLLECTOR_LOG=$(mktemp "/tmp/stepledger-bench-$name-collector.XXXXXX.log")
  bench_transport_flags
  "$BUILD_DIR/server/stepledger-collector" --database-url="$URL" \
    --grpc-listen="127.0.0.1:$GRPC_PORT" --metrics-listen="127.0.0.1:$METRICS_PORT" \
    --otlp-http-listen= "${BENCH_TRANSPORT_FLAGS[@]}" "$@" \
    2>"$COLLECTOR_LOG" &
  COLLECTOR_PID=$!
  for _ in $(seq 1 150); do
    grep -q "collector ready" "$COLLECTOR_LOG" && return 0
    sleep 0.2
  done
  cat "$COLLECTOR_LOG"
  return 1
}

bench_key() {
  local role=$1
  local file="$BENCH_SECURITY_DIR/$role.key"
  [[ -n $BENCH_SECURITY_DIR ]] || { echo "bench_key: needs BENCH_TLS=1" >&2; return 1; }
  # Always a new key: a later start_bench_collector empties the key table.
  rm -f "$file"
  "$BUILD_DIR/client/stepledger" --target="127.0.0.1:$GRPC_PORT" keys create \
    --name "bench-$role" --role "$role" --scope '*' --note "benchmark key" \
    --token-file "$file" >/dev/null || return 1
  echo "$file"
}

stop_bench_collector() {
  if [[ -n $COLLECTOR_PID ]]; then
    kill "$COLLECTOR_PID" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
  fi
  if [[ -n $COLLECTOR_LOG ]]; then rm -f "$COLLECTOR_LOG"; fi
  if [[ -n $BENCH_SECURITY_DIR ]]; then rm -rf "$BENCH_SECURITY_DIR"; fi
  COLLECTOR_PID=''
  COLLECTOR_LOG=''
  BENCH_SECURITY_DIR=''
}

empty_bench_ledger() {
  psql -qAt -v ON_ERROR_STOP=1 "$URL" >/dev/null <<'SQL'
DO $$ DECLARE names text; BEGIN
  SELECT string_agg(quote_ident(t), ', ') INTO names
  FROM unnest(ARRAY['steps', 'event_keys', 'quarantine', 'runs', 'spend_counters']) t
  WHERE to_regclass(t) IS NOT NULL;
  IF names IS NOT NULL THEN EXECUTE 'TRUNCATE ' || names; END IF;
END $$
SQL
}
