#!/usr/bin/env bash
# bench/otlp: OTLP/gRPC ingest throughput against the physical limit of this machine, as
# bench/ingest measures StreamSteps (issue 18: target >= 0.5 of raw COPY).
#
#   1. start a collector on the benchmark's PostgreSQL (durable settings), export SPANS GenAI
#      chat spans (default 240,000) with CALLERS (8) concurrent exporters in requests of BATCH
#      spans (2,004: between an SDK's batch span processor, 512, and the OpenTelemetry
#      Collector's batch processor, up to 8,192), report acked spans/s and the collector's peak
#      RSS. Export answers only after the request's steps are committed, so throughput follows
#      the spans in flight (CALLERS x BATCH, here about 16,000; bench/ingest has up to 32,000)
#   2. COPY the same rows with psql into an empty copy of the ledger table (bench/copy_ceiling.sh)
#   3. print the ratio
#
# Needs STEPLEDGER_BENCH_DATABASE_URL and STEPLEDGER_BUILD_DIR (set by `make bench`).
set -euo pipefail
: "${STEPLEDGER_BENCH_DATABASE_URL:?run through make bench}"
BUILD_DIR=${STEPLEDGER_BUILD_DIR:-build/release}
SPANS=${OTLP_BENCH_SPANS:-240000}
CALLERS=${OTLP_BENCH_CALLERS:-8}
BATCH=${OTLP_BENCH_BATCH:-2004}
WRITERS=${OTLP_BENCH_WRITERS:-2}
URL=$STEPLEDGER_BENCH_DATABASE_URL

# shellcheck source=bench/collector.sh
source "$(dirname "${BASH_SOURCE[0]}")/../collector.sh"
# shellcheck source=bench/copy_ceiling.sh
source "$(dirname "${BASH_SOURCE[0]}")/../copy_ceiling.sh"
trap stop_bench_collector EXIT
# Empty tables before the collector starts: emptied after its start, they would lose rows
# it had already read (the budget counters), and a TRUNCATE during its start-up work can deadlock.
empty_bench_ledger
start_bench_collector otlp --writers="$WRITERS"
PID=$COLLECTOR_PID

psql -qAt "$URL" -c "ANALYZE budgets" >/dev/null
CAPS=$(psql -qAt "$URL" -c "SELECT count(*) FROM budgets")
echo "otlp: $SPANS spans, $CALLERS concurrent exporters, requests of $BATCH spans, $WRITERS writer connections, $CAPS caps"
LOAD_OUT=$("$BUILD_DIR/bench/otlp/otlp_load" "127.0.0.1:$GRPC_PORT" "$SPANS" "$CALLERS" "$BATCH")
echo "  collector: $LOAD_OUT"
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
echo "  collector peak RSS: $((RSS_KB / 1024)) MiB"
ACKED=$(sed -E 's/.*acked_spans=([0-9]+).*/\1/' <<<"$LOAD_OUT")
ROWS=$(psql -qAt "$URL" -c "SELECT count(*) FROM steps")
[[ $ROWS -eq $ACKED ]] || { echo "ledger has $ROWS rows, $ACKED spans were acked"; exit 1; }
kill -TERM "$PID"; wait "$PID" || true

copy_ceiling "$URL"
OTLP_RATE=$(sed -E 's/.*spans_per_second=([0-9]+).*/\1/' <<<"$LOAD_OUT")
python3 -c "r=$OTLP_RATE/$COPY_RATE; print(f'  ratio OTLP ingest/COPY: {r:.2f} (target >= 0.50)')"
