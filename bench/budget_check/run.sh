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
#      calls/s, p50/p99/p99.9 latency and the ratio checks/s / floor/s (target >= 0.9) with a
#      95% bootstrap interval over the slices, and the CPU per call of the load client and of
#      each server (BUDGET_BENCH_SERVER_PIDS)
#   4. open loop at half the saturating rate (the closed-loop check rate at the highest
#      concurrency of step 3): CheckBudget and the empty RPC, PACED seconds each in alternating
#      1 s slices, p50/p99/p99.9 from each call's scheduled send time (target: check p99 < 1 ms);
#      BUDGET_BENCH_PACED_SHARES (default 0.5) lists the shares of the saturating rate to run,
#      e.g. 0.1,0.25,0.5 for latency against load. BUDGET_BENCH_PIN=SERVER_CPUS:CLIENT_CPUS
#      (e.g. 1:0) pins both servers' threads and the load client to separate CPUs for steps 3
#      and 4, so that the latency is not the two sides' threads preempting each other
#
# Steps 1 to 4 run twice, in the same run: first plaintext with no credentials (`--insecure
# --insecure-no-auth`, the floor on a plaintext empty_server), then with TLS and API keys
# (bench/collector.sh's BENCH_TLS=1: a certificate made as `make run` makes its own, every
# check sent with a `check`-role key and authenticated; the floor is the same client, with the
# same key, on empty_server serving TLS with the collector's credentials code; issue 17 wants
# the authenticated check >= 0.8 of that floor). BUDGET_BENCH_TLS=off or =on runs only one.
#
# Needs STEPLEDGER_BENCH_DATABASE_URL and STEPLEDGER_BUILD_DIR (set by `make bench`).
# BUDGET_BENCH_SECONDS (default 30: at 10 s the interval is about +-0.05, as wide as the margin
# to the target; at 30 s about +-0.03), BUDGET_BENCH_CONCURRENCY (default 1,4,16,64),
# BUDGET_BENCH_SLICE_SECONDS (default 0.5) and BUDGET_BENCH_PACED_SECONDS (default 10; 0 skips
# step 4) override. BUDGET_BENCH_ONLY_DECIDING_CAP=1 sends every check with only_deciding_cap
# (the answer carries at most the deciding cap's status; budget_check_load.cc).
set -euo pipefail
: "${STEPLEDGER_BENCH_DATABASE_URL:?run through make bench}"
BUILD_DIR=${STEPLEDGER_BUILD_DIR:-build/release}
SECONDS_EACH=${BUDGET_BENCH_SECONDS:-30}
CONCURRENCY=${BUDGET_BENCH_CONCURRENCY:-1,4,16,64}
SLICE=${BUDGET_BENCH_SLICE_SECONDS:-0.5}
PACED=${BUDGET_BENCH_PACED_SECONDS:-10}
PACED_SHARES=${BUDGET_BENCH_PACED_SHARES:-0.5}
PIN=${BUDGET_BENCH_PIN:-}
if [[ -n $PIN && ! $PIN =~ ^[0-9,-]+:[0-9,-]+$ ]]; then
  echo "BUDGET_BENCH_PIN: SERVER_CPUS:CLIENT_CPUS (e.g. 1:0), not '$PIN'" >&2
  exit 64
fi
TLS_MODES=${BUDGET_BENCH_TLS:-both}
URL=$STEPLEDGER_BENCH_DATABASE_URL
LOAD="$BUILD_DIR/bench/budget_check/budget_check_load"
EMPTY="$BUILD_DIR/bench/budget_check/empty_server"
# shellcheck source=bench/budget_check/load_caps.sh
source "$(dirname "${BASH_SOURCE[0]}")/load_caps.sh"

# shellcheck source=bench/collector.sh
source "$(dirname "${BASH_SOURCE[0]}")/../collector.sh"
FLOOR_OUT=$(mktemp /tmp/stepledger-bench-budget-floor.XXXXXX.out)
RUN_OUT=$(mktemp /tmp/stepledger-bench-budget-run.XXXXXX.out)
FLOOR_PID=
stop_floor() {
  if [[ -n $FLOOR_PID ]]; then
    kill "$FLOOR_PID" 2>/dev/null || true
    wait "$FLOOR_PID" 2>/dev/null || true
  fi
  FLOOR_PID=
}
cleanup() {
  stop_bench_collector
  stop_floor
  rm -f "$FLOOR_OUT" "$RUN_OUT"
}
trap cleanup EXIT

# measure off|on: steps 1 to 4 with BENCH_TLS=0 or 1.
measure() {
  local tls=$1 floor_tls=() label="plaintext, no credentials"
  if [[ $tls == on ]]; then label="TLS, API key checked on every call"; fi
  echo "budget_check ($label):"
  BENCH_TLS=$([[ $tls == on ]] && echo 1 || echo 0)
  unset STEPLEDGER_CA_CERT STEPLEDGER_API_KEY_FILE STEPLEDGER_API_KEY
  start_bench_collector budget
  PID=$COLLECTOR_PID

  echo -n "budget_check: "
  load_bench_caps "$URL" "$LOAD" "127.0.0.1:$GRPC_PORT"
  if [[ $tls == on ]]; then
    # The checks carry a key of the role a budget-checking agent gets, not the admin's.
    STEPLEDGER_API_KEY_FILE=$(bench_key check)
    export STEPLEDGER_API_KEY_FILE
    floor_tls=("$BENCH_SECURITY_DIR/server.pem" "$BENCH_SECURITY_DIR/server.key")
  fi

  # What the idle collector spends in the background (the 1 s refresh: the per-cap gauges and
  # the counters changed since its last read), which the checks below compete with; after 2 s
  # for the refreshes that take in the load itself. bench/budget_refresh measures this over
  # minutes.
  sleep 2
  cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
  T0=$(cpu_ticks)
  sleep 3
  T1=$(cpu_ticks)
  IDLE_CPU=$(python3 -c "print(round(($T1 - $T0) / $(getconf CLK_TCK) / 3 * 100, 1))")

  "$EMPTY" 127.0.0.1:0 "${floor_tls[@]}" >"$FLOOR_OUT" &
  FLOOR_PID=$!
  for _ in $(seq 1 100); do
    grep -q "ready port=" "$FLOOR_OUT" && break
    sleep 0.1
  done
  FLOOR_PORT=$(sed -nE 's/^ready port=([0-9]+)$/\1/p' "$FLOOR_OUT")
  [[ -n $FLOOR_PORT ]] || { echo "empty_server did not start"; exit 1; }

  local client=("$LOAD")
  if [[ -n $PIN ]]; then
    # Every thread of both servers on SERVER_CPUS, the load client on CLIENT_CPUS: neither
    # side's threads preempt the other's (PostgreSQL is left alone; checks do not reach it).
    taskset -a -p -c "${PIN%%:*}" "$PID" >/dev/null
    taskset -a -p -c "${PIN%%:*}" "$FLOOR_PID" >/dev/null
    client=(taskset -c "${PIN##*:}" "$LOAD")
    echo "budget_check ($label): servers pinned to CPU ${PIN%%:*}, the load client to CPU ${PIN##*:}"
  fi
  echo "budget_check ($label): closed-loop clients over loopback, ${SECONDS_EACH}s per point in ~${SLICE}s slices (first 10% of each warm-up),"
  echo "  CheckBudget on the collector vs an empty unary RPC (empty_server); $(nproc) CPUs,"
  echo "  load average $(cut -d' ' -f1-3 /proc/loadavg); idle collector CPU (background refresh): ${IDLE_CPU}% of a core"
  BUDGET_BENCH_SERVER_PIDS="$PID,$FLOOR_PID" "${client[@]}" run "127.0.0.1:$GRPC_PORT" \
    "127.0.0.1:$FLOOR_PORT" "$SECONDS_EACH" "$CONCURRENCY" "$SLICE" | tee "$RUN_OUT"
  echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

  if [[ $PACED != 0 ]]; then
    # Saturation: the closed-loop check rate at the highest concurrency just measured.
    local top saturated
    top=$(tr ',' '\n' <<<"$CONCURRENCY" | sort -n | tail -1)
    saturated=$(awk -v c="$top" '$1 == "check" && $2 == c { print int($3); exit }' "$RUN_OUT")
    local share rate
    for share in ${PACED_SHARES//,/ }; do
      rate=$(awk -v s="$saturated" -v f="$share" 'BEGIN { r = int(s * f); print (r < 1 ? 1 : r) }')
      echo "budget_check ($label): ${share} of the saturating load: check saturates at" \
        "${saturated}/s (closed loop, $top clients), so ${rate}/s; load average" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
      "${client[@]}" paced "127.0.0.1:$GRPC_PORT" "127.0.0.1:$FLOOR_PORT" "$rate" "$PACED"
    done
  fi
  RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  echo "  collector peak RSS: $((RSS_KB / 1024)) MiB"
  stop_floor
  stop_bench_collector
  echo
}

case $TLS_MODES in
  both)
    measure off
    measure on
    ;;
  off | on) measure "$TLS_MODES" ;;
  *) echo "BUDGET_BENCH_TLS: both, off or on, not '$TLS_MODES'" >&2; exit 64 ;;
esac
