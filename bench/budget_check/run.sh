#!/usr/bin/env bash
# bench/budget_check: CheckBudget throughput and latency over loopback against the gRPC floor.
#
#   1. start a collector on the benchmark's PostgreSQL; COPY 10,000 caps straight into the
#      `budgets` table and this period's spend for each into `spend_counters`, and wait for the
#      collector to pick them up (load_caps.sh)
#   2. start empty_server (one empty unary RPC, callback API, the collector's builder settings)
#   3. for each concurrency (1, 4, 16, 64): closed-loop clients doing CheckBudget with random
#      realistic tags, the same requests against empty_server's canned Check (same messages, no
#      budget work) and the same loop against the empty RPC, SECONDS each, in rotating slices of
#      about SLICE seconds (so other activity on the machine hits all three alike); report
#      calls/s, p50/p99/p99.9 latency and the ratio checks/s / floor/s (target >= 0.8) with a
#      95% bootstrap interval over the slices, and the CPU per call of the load client and of
#      each server (BUDGET_BENCH_SERVER_PIDS)
#
# Needs STEPLEDGER_BENCH_DATABASE_URL and STEPLEDGER_BUILD_DIR (set by `make bench`).
# BUDGET_BENCH_SECONDS (default 30: at 10 s the interval is about +-0.05, as wide as the margin
# to the target; at 30 s about +-0.03), BUDGET_BENCH_CONCURRENCY (default 1,4,16,64) and
# BUDGET_BENCH_SLICE_SECONDS (default 0.5) override.
set -euo pipefail
: "${STEPLEDGER_BENCH_DATABASE_URL:?run through make bench}"
BUILD_DIR=${STEPLEDGER_BUILD_DIR:-build/release}
SECONDS_EACH=${BUDGET_BENCH_SECONDS:-30}
CONCURRENCY=${BUDGET_BENCH_CONCURRENCY:-1,4,16,64}
SLICE=${BUDGET_BENCH_SLICE_SECONDS:-0.5}
URL=$STEPLEDGER_BENCH_DATABASE_URL
LOAD="$BUILD_DIR/bench/budget_check/budget_check_load"
EMPTY="$BUILD_DIR/bench/budget_check/empty_server"
# shellcheck source=bench/budget_check/load_caps.sh
source "$(dirname "${BASH_SOURCE[0]}")/load_caps.sh"

# shellcheck source=bench/collector.sh
source "$(dirname "${BASH_SOURCE[0]}")/../collector.sh"
FLOOR_OUT=$(mktemp /tmp/stepledger-bench-budget-floor.XXXXXX.out)
FLOOR_PID=
cleanup() {
  stop_bench_collector
  if [[ -n $FLOOR_PID ]]; then
    kill "$FLOOR_PID" 2>/dev/null || true
    wait "$FLOOR_PID" 2>/dev/null || true
  fi
  rm -f "$FLOOR_OUT"
}
trap cleanup EXIT
start_bench_collector budget
PID=$COLLECTOR_PID

echo -n "budget_check: "
load_bench_caps "$URL" "$LOAD" "127.0.0.1:$GRPC_PORT"

# What the idle collector spends in the background (the 1 s refresh: the per-cap gauges and the
# counters changed since its last read), which the checks below compete with; after 2 s for
# the refreshes that take in the load itself. bench/budget_refresh measures this over minutes.
sleep 2
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
T0=$(cpu_ticks)
sleep 3
T1=$(cpu_ticks)
IDLE_CPU=$(python3 -c "print(round(($T1 - $T0) / $(getconf CLK_TCK) / 3 * 100, 1))")

"$EMPTY" 127.0.0.1:0 >"$FLOOR_OUT" &
FLOOR_PID=$!
for _ in $(seq 1 100); do
  grep -q "ready port=" "$FLOOR_OUT" && break
  sleep 0.1
done
FLOOR_PORT=$(sed -nE 's/^ready port=([0-9]+)$/\1/p' "$FLOOR_OUT")
[[ -n $FLOOR_PORT ]] || { echo "empty_server did not start"; exit 1; }

echo "budget_check: closed-loop clients over loopback, ${SECONDS_EACH}s per point in ~${SLICE}s slices (first 10% of each warm-up),"
echo "  CheckBudget on the collector vs an empty unary RPC (empty_server); $(nproc) CPUs,"
echo "  load average $(cut -d' ' -f1-3 /proc/loadavg); idle collector CPU (background refresh): ${IDLE_CPU}% of a core"
BUDGET_BENCH_SERVER_PIDS="$PID,$FLOOR_PID" "$LOAD" run "127.0.0.1:$GRPC_PORT" "127.0.0.1:$FLOOR_PORT" "$SECONDS_EACH" "$CONCURRENCY" "$SLICE"
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo "  collector peak RSS: $((RSS_KB / 1024)) MiB"
