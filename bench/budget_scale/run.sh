#!/usr/bin/env bash
# bench/budget_scale: the budget engine's cost against the number of distinct keys (issue 15,
# item 4), and ingest while caps change (item 5).
#
#   1. load bench/budget_check's 10,000 caps and their counters (load_caps.sh)
#   2. for each TENANTS (default 10,000 and 1,000,000): store this period's spend of TENANTS
#      tenants no cap watches straight into spend_counters (as the writers keep it: a daily and
#      a monthly row each), start a fresh collector, stream EVENTS events (default 100,000)
#      charged to min(EVENTS, TENANTS) of those tenants (and to the caps' features and teams)
#      so the collector's own write path and engine see them too, then measure:
#        - the collector's RSS once settled, and its idle CPU over IDLE seconds (the 1 s
#          refresh, one full counter read a minute);
#        - CheckBudget p50/p99 with 4 closed-loop clients over CHECK seconds;
#        - CAPS (default 1,000) PutBudget calls back to back, each a new tenant cap on a key with
#          stored spend (per-call p50/p99 and the total: the bulk apply)
#   3. ingest alone, then the same ingest while a client puts caps back to back (events/s)
#
# Needs STEPLEDGER_BENCH_DATABASE_URL and STEPLEDGER_BUILD_DIR (set by `make bench`).
# SCALE_BENCH_TENANTS (comma-separated), SCALE_BENCH_EVENTS, SCALE_BENCH_CAPS,
# SCALE_BENCH_IDLE_SECONDS (default 20) and SCALE_BENCH_CHECK_SECONDS (default 10) override.
# About 5 minutes with the defaults on a busy 2-core machine.
set -euo pipefail
: "${STEPLEDGER_BENCH_DATABASE_URL:?run through make bench}"
BUILD_DIR=${STEPLEDGER_BUILD_DIR:-build/release}
CASES=${SCALE_BENCH_TENANTS:-10000,1000000}
EVENTS=${SCALE_BENCH_EVENTS:-100000}
CAPS=${SCALE_BENCH_CAPS:-1000}
IDLE=${SCALE_BENCH_IDLE_SECONDS:-20}
CHECK=${SCALE_BENCH_CHECK_SECONDS:-10}
URL=$STEPLEDGER_BENCH_DATABASE_URL
HERE=$(dirname "${BASH_SOURCE[0]}")
LOAD="$BUILD_DIR/bench/budget_scale/budget_scale_load"
# shellcheck source=bench/budget_check/load_caps.sh
source "$HERE/../budget_check/load_caps.sh"
# shellcheck source=bench/collector.sh
source "$HERE/../collector.sh"
CHURN_PID=
cleanup() {
  if [[ -n $CHURN_PID ]]; then kill "$CHURN_PID" 2>/dev/null || true; fi
  stop_bench_collector
}
trap cleanup EXIT
sql() { psql -qAt -v ON_ERROR_STOP=1 "$URL" -c "$1"; }

start_bench_collector scale
load_bench_caps "$URL" "$BUILD_DIR/bench/budget_check/budget_check_load" "127.0.0.1:$GRPC_PORT"
stop_bench_collector
COLLECTOR_PID=

# Back to the 10,000 caps and their preloaded counters, with an empty ledger.
reset_state() {
  sql "TRUNCATE steps, event_keys, runs, quarantine" >/dev/null
  sql "DELETE FROM budgets WHERE id LIKE 'scale-%' OR id LIKE 'churn-%'" >/dev/null
  sql "DELETE FROM spend_counters WHERE owner <> 'bench-preload'" >/dev/null
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }

echo "budget_scale: 10,000 caps; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %8s %9s %9s %9s %11s %11s %11s %10s\n' tenants "rss_MiB" "idle_%cpu" "check_p50" \
  "check_p99" "put_p50_ms" "put_p99_ms" "${CAPS}_caps_s" "ingest_e/s"
IFS=, read -r -a TENANT_CASES <<<"$CASES"
for TENANTS in "${TENANT_CASES[@]}"; do
  reset_state
  # This period's spend of TENANTS tenants, one writer's rows, as if streamed earlier.
  sql "INSERT INTO spend_counters (owner, scope, key, environment, period, period_start,
                                   spent_nano_usd)
       SELECT 'bench-tenants', 'tenant', 'scale-' || i, 'production', p.period, p.start, 1000
       FROM generate_series(0, $TENANTS - 1) AS i
       CROSS JOIN (VALUES ('daily', date_trunc('day', now(), 'UTC')),
                          ('monthly', date_trunc('month', now(), 'UTC'))) AS p(period, start)" \
    >/dev/null
  sql "VACUUM ANALYZE spend_counters" >/dev/null
  start_bench_collector scale
  PID=$COLLECTOR_PID
  DISTINCT=$((EVENTS < TENANTS ? EVENTS : TENANTS))
  INGEST=$("$LOAD" events "127.0.0.1:$GRPC_PORT" "$EVENTS" "$DISTINCT" 0)
  sleep 3
  T0=$(cpu_ticks "$PID")
  sleep "$IDLE"
  T1=$(cpu_ticks "$PID")
  IDLE_CPU=$(python3 -c "print(round(($T1 - $T0) / $(getconf CLK_TCK) / $IDLE * 100, 2))")
  RSS=$(rss_mib "$PID")
  CHECKS=$("$LOAD" checks "127.0.0.1:$GRPC_PORT" "$CHECK" 4)
  PUTS=$("$LOAD" put-caps "127.0.0.1:$GRPC_PORT" "$CAPS" scale)
  sed_field() { sed -nE "s/.*$1=([0-9.]+).*/\\1/p" <<<"$2"; }
  printf '%-10s %8s %9s %9s %9s %11s %11s %11s %10s\n' "$TENANTS" "$RSS" "$IDLE_CPU" \
    "$(sed_field p50_us "$CHECKS")us" "$(sed_field p99_us "$CHECKS")us" \
    "$(sed_field p50_ms "$PUTS")" "$(sed_field p99_ms "$PUTS")" "$(sed_field seconds "$PUTS")" \
    "$(sed_field events_per_second "$INGEST")"
  stop_bench_collector
  COLLECTOR_PID=
done

# Ingest while caps change: the same load alone, then beside a client putting caps back to back.
reset_state
start_bench_collector scale
ALONE=$("$LOAD" events "127.0.0.1:$GRPC_PORT" "$EVENTS" 10000 5000000)
CHURN_OUT=$(mktemp /tmp/stepledger-bench-churn.XXXXXX.out)
"$LOAD" put-caps "127.0.0.1:$GRPC_PORT" 1000000 churn >"$CHURN_OUT" &
CHURN_PID=$!
sleep 1
DURING=$("$LOAD" events "127.0.0.1:$GRPC_PORT" "$EVENTS" 10000 6000000)
kill -TERM "$CHURN_PID" 2>/dev/null || true
wait "$CHURN_PID" || { cat "$CHURN_OUT"; exit 1; }
CHURN_PID=
CHURN=$(cat "$CHURN_OUT")
rm -f "$CHURN_OUT"
echo "ingest alone:                  $ALONE"
echo "ingest while caps change:      $DURING"
echo "  PutBudget meanwhile (back to back, 1 s head start): $CHURN"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
