#!/usr/bin/env bash
# bench/ingest: end-to-end ingest throughput against the physical limit of this machine.
#
#   1. start a collector on the benchmark's PostgreSQL (durable settings: fsync and
#      synchronous_commit on), stream EVENTS events (default 500,000) over 8 streams in batches
#      of 500, report acked (= committed) events/s and the collector's peak RSS
#   2. COPY the same rows with psql into an empty copy of the ledger table (same columns and
#      indexes) and report rows/s: the physical limit of a single COPY session
#   3. print the ratio (target >= 0.5, goal 0.8)
#
# Needs STEPLEDGER_BENCH_DATABASE_URL and STEPLEDGER_BUILD_DIR (set by `make bench`).
set -euo pipefail
: "${STEPLEDGER_BENCH_DATABASE_URL:?run through make bench}"
BUILD_DIR=${STEPLEDGER_BUILD_DIR:-build/release}
EVENTS=${INGEST_BENCH_EVENTS:-500000}
STREAMS=${INGEST_BENCH_STREAMS:-8}
BATCH=${INGEST_BENCH_BATCH:-500}
WRITERS=${INGEST_BENCH_WRITERS:-2}
URL=$STEPLEDGER_BENCH_DATABASE_URL

# shellcheck source=bench/collector.sh
source "$(dirname "${BASH_SOURCE[0]}")/../collector.sh"
# shellcheck source=bench/copy_ceiling.sh
source "$(dirname "${BASH_SOURCE[0]}")/../copy_ceiling.sh"
cleanup() { stop_bench_collector; }
trap cleanup EXIT
# Empty tables before the collector starts: emptied after its start, they would lose rows
# it had already read (the budget counters), and a TRUNCATE during its start-up work can deadlock.
empty_bench_ledger
start_bench_collector ingest --writers="$WRITERS"
PID=$COLLECTOR_PID

# Caps left by an earlier benchmark (bench/budget_check loads 10,000) stay: the write path then
# also maintains their spend counters, as it would in production. Fresh statistics first, so
# the planner knows how many caps there are.
psql -qAt "$URL" -c "ANALYZE budgets" >/dev/null
CAPS=$(psql -qAt "$URL" -c "SELECT count(*) FROM budgets")
echo "ingest: $EVENTS events, $STREAMS streams, batches of $BATCH, $WRITERS writer connections, $CAPS caps"
LOAD_OUT=$("$BUILD_DIR/bench/ingest/ingest_load" "127.0.0.1:$GRPC_PORT" "$EVENTS" "$STREAMS" "$BATCH")
echo "  collector: $LOAD_OUT"
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo "  collector peak RSS: $((RSS_KB / 1024)) MiB"
ROWS=$(psql -qAt "$URL" -c "SELECT count(*) FROM steps")
[[ $ROWS -eq $EVENTS ]] || { echo "ledger has $ROWS rows, expected $EVENTS"; exit 1; }
kill -TERM "$PID"; wait "$PID" || true

# The physical limit: the same rows, one COPY, into an empty table of the same shape.
copy_ceiling "$URL"
INGEST_RATE=$(sed -E 's/.*events_per_second=([0-9]+).*/\1/' <<<"$LOAD_OUT")
python3 -c "r=$INGEST_RATE/$COPY_RATE; print(f'  ratio ingest/COPY: {r:.2f} (target >= 0.50, goal 0.80)')"
