#!/usr/bin/env bash
# bench/budget_refresh: what the 1 s budget refresh costs with 10,000 caps, in the collector and
# in PostgreSQL, when nothing happens and when another replica keeps changing counters.
#
#   1. start a collector on the benchmark's PostgreSQL and load bench/budget_check's 10,000 caps
#      and their counters (load_caps.sh)
#   2. at rest: CPU of the collector and of PostgreSQL over SECONDS (default 60: one full
#      counter read a minute is included, as in production)
#   3. busy: the same while "another replica" adds spend to CHANGED counters (default 500) every
#      second, each in its own commit, the way writers do (changed_xid moves)
#
# Reports each as % of one core. The collector's refresh reads only the counters changed since
# its last read (docs/BUDGETS.md), so at rest it should cost next to nothing.
#
# Needs STEPLEDGER_BENCH_DATABASE_URL and STEPLEDGER_BUILD_DIR (set by `make bench`).
# REFRESH_BENCH_SECONDS and REFRESH_BENCH_CHANGED override.
set -euo pipefail
: "${STEPLEDGER_BENCH_DATABASE_URL:?run through make bench}"
BUILD_DIR=${STEPLEDGER_BUILD_DIR:-build/release}
SECONDS_EACH=${REFRESH_BENCH_SECONDS:-60}
CHANGED=${REFRESH_BENCH_CHANGED:-500}
URL=$STEPLEDGER_BENCH_DATABASE_URL
HERE=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=bench/budget_check/load_caps.sh
source "$HERE/../budget_check/load_caps.sh"

# shellcheck source=bench/collector.sh
source "$HERE/../collector.sh"
UPDATER_PID=
cleanup() {
  if [[ -n $UPDATER_PID ]]; then kill "$UPDATER_PID" 2>/dev/null || true; fi
  stop_bench_collector
}
trap cleanup EXIT
start_bench_collector refresh
PID=$COLLECTOR_PID

load_bench_caps "$URL" "$BUILD_DIR/bench/budget_check/budget_check_load" "127.0.0.1:$GRPC_PORT"
# Let the loads' own refreshes (a full read after the caps changed, the counters' first read)
# pass before measuring.
sleep 3

# Clock ticks of user + system time of the given processes (those that have exited count 0).
ticks_of() {
  local total=0 pid
  for pid in "$@"; do
    if [[ -r /proc/$pid/stat ]]; then
      total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    fi
  done
  echo "$total"
}
# PostgreSQL's processes now (backends, checkpointer, WAL writer, ...); the updater's and this
# query's own backends come and go and are not among them.
mapfile -t PG_PIDS < <(psql -qAt "$URL" -c "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()")

# Measures over SECONDS_EACH and prints "<collector %> <postgres %>" of one core.
measure() {
  local c0 p0 c1 p1
  c0=$(ticks_of "$PID")
  p0=$(ticks_of "${PG_PIDS[@]}")
  sleep "$SECONDS_EACH"
  c1=$(ticks_of "$PID")
  p1=$(ticks_of "${PG_PIDS[@]}")
  python3 -c "t = $(getconf CLK_TCK) * $SECONDS_EACH; print(round(($c1 - $c0) / t * 100, 2), round(($p1 - $p0) / t * 100, 2))"
}

read -r REST_COLLECTOR REST_PG < <(measure)

# Another replica's writers: CHANGED counters a second, one commit each second, moving the
# rows' change marks as the writers' upserts do (when the schema has them: the script also
# measures collectors from before migration 0011, for comparison).
MARK=
if [[ $(psql -qAt "$URL" -c "SELECT count(*) FROM information_schema.columns
                              WHERE table_name = 'spend_counters'
                                AND column_name = 'changed_xid'") == 1 ]]; then
  MARK=", changed_xid = pg_current_xact_id()"
fi
(
  while :; do
    psql -qAt "$URL" -c "UPDATE spend_counters SET spent_nano_usd = spent_nano_usd + 1000 $MARK
                         WHERE ctid = ANY (ARRAY(SELECT ctid FROM spend_counters
                                                 ORDER BY random() LIMIT $CHANGED))" >/dev/null
    sleep 1
  done
) &
UPDATER_PID=$!
sleep 2
read -r BUSY_COLLECTOR BUSY_PG < <(measure)
kill "$UPDATER_PID" 2>/dev/null || true
UPDATER_PID=

echo "budget_refresh: 10,000 caps, refresh every 1 s, full counter read every minute; ${SECONDS_EACH}s each, % of one core"
printf '%-44s %10s %10s\n' "state" "collector" "postgres"
printf '%-44s %10s %10s\n' "at rest" "$REST_COLLECTOR" "$REST_PG"
printf '%-44s %10s %10s\n' "another replica changes $CHANGED counters/s" "$BUSY_COLLECTOR" "$BUSY_PG"
echo "  (postgres: its processes at the start, so the updater's own backends are not counted)"
