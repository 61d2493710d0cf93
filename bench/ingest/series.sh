#!/usr/bin/env bash
# bench/ingest/series.sh: the ingest benchmark repeated (a median, not one lucky run) and swept
# (scale curves, not points). Not part of `make bench` (a full series takes 10 to 40 minutes);
# see docs/PERFORMANCE.md, "Ingest series and scale curves".
#
#   bench/ingest/series.sh BUILD_DIR median [RUNS=5]
#       RUNS times: a fresh durable cluster, the 10,000 caps of bench/budget_check (load_caps.sh),
#       then bench/ingest/run.sh as `make bench` runs it (500,000 events unless
#       INGEST_BENCH_EVENTS says otherwise). Prints each run's row, with the load average at its
#       start, then the median and the spread of the ratio ingest/COPY. SERIES_SCRIPT names
#       another benchmark printing a "ratio ...: R" line to run the same way instead (for
#       example bench/otlp/run.sh: OTLP/gRPC ingest against the same ceiling, with the caps).
#   bench/ingest/series.sh BUILD_DIR curves [writers] [streams] [batch] [ledger]
#       one durable cluster with the 10,000 caps; for each point a fresh collector, the ledger
#       emptied (except on the ledger curve), CURVE_EVENTS events (default 200,000) streamed by
#       ingest_load; acked events/s and the collector's peak RSS per point. Writes
#       docs/perf/ingest_<curve>.dat and plots docs/perf/ingest_<curve>.png with gnuplot.
#         writers  --writers 1, 2, 4, 8 (8 streams, batches of 500)
#         streams  1, 2, 4, 8, 16, 32, 64 streams (2 writers, batches of 500)
#         batch    batches of 50, 100, 250, 500, 1,000 (2 writers, 8 streams)
#         ledger   stored steps before the load: 0, then CURVE_LEDGER_SIZES (default
#                  "10000000"), pre-loaded with SQL (INSERT ... SELECT generate_series into
#                  event_keys, steps and runs over the last 7 days), not through the collector
#       With no curve named, all four. The raw COPY ceiling is measured once, after the first
#       curve, for reference.
#   bench/ingest/series.sh BUILD_DIR store [RUNS=3]
#       RUNS times: a fresh durable cluster with the 10,000 caps, then ledger_store_load: the
#       write path alone (GroupCommitter and PgLedgerStore, STORE_WRITERS writers, default 2),
#       no gRPC and no load client, STORE_EVENTS events (default 500,000, as `median`). Prints
#       its events/s, its own and PostgreSQL's CPU per event, the raw COPY ceiling (with
#       PostgreSQL's CPU per row) and the ratio store/COPY, and the ratio the CPU per event
#       allows at equal machine speed (cores x COPY's CPU per row / the store's per event);
#       then the median: what PostgreSQL's work per event allows on these cores when the
#       collector's transport and the load client cost nothing. BENCH_EXTRA_SQL as for profile.
#   bench/ingest/series.sh BUILD_DIR profile
#       one run of PROFILE_EVENTS (default 300,000) events with the 10,000 caps on a cluster
#       with pg_stat_statements (track = all): wall time inside PostgreSQL per statement per
#       event, CPU per event of the collector, of PostgreSQL's processes and of the load client
#       (from /proc and /usr/bin/time), the collector's peak RSS, and, when `perf` is
#       installed, the collector's hottest symbols (perf record -g at 999 Hz during the load).
#       BENCH_EXTRA_SQL, if set, runs once on the migrated cluster before the load: a schema
#       experiment's A/B (e.g. an index dropped) without a new migration.
#
# Every run prints the load average at its start: other work on a 2-core machine moves these
# figures, so compare within one series.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"
cd "$ROOT"
BUILD_DIR=$(realpath -m "${1:?usage: series.sh BUILD_DIR median|curves ...}")
MODE=${2:?usage: series.sh BUILD_DIR median|curves ...}
shift 2
export STEPLEDGER_BUILD_DIR=$BUILD_DIR
LOAD_CAPS_BIN="$BUILD_DIR/bench/budget_check/budget_check_load"
INGEST_LOAD="$BUILD_DIR/bench/ingest/ingest_load"
PLOT_DIR="$ROOT/docs/perf"

PG_DIR=
# shellcheck disable=SC2317  # run by traps
destroy_cluster() {
  if [[ -n $PG_DIR ]]; then bash "$PG_SH" destroy "$PG_DIR" >/dev/null 2>&1 || true; fi
  PG_DIR=
}
# shellcheck disable=SC2317
cleanup() {
  local rc=$?
  stop_bench_collector
  destroy_cluster
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A durable cluster as deploy/local/bench.sh starts it (on /var/tmp, never a tmpfs); sets URL.
new_cluster() {
  PG_DIR=$(mktemp -d /var/tmp/stepledger-bench-series.XXXXXX)
  start_throwaway_cluster "$PG_DIR"
  sync
  URL=$(bash "$PG_SH" url "$PG_DIR" "$PG_PORT")
  export STEPLEDGER_BENCH_DATABASE_URL=$URL
}

# bench/collector.sh and load_caps.sh read BUILD_DIR and URL.
BUILD_DIR_SAVED=$BUILD_DIR
# shellcheck source=bench/collector.sh
source "$ROOT/bench/collector.sh"
# shellcheck source=bench/budget_check/load_caps.sh
source "$ROOT/bench/budget_check/load_caps.sh"
# shellcheck source=bench/copy_ceiling.sh
source "$ROOT/bench/copy_ceiling.sh"
BUILD_DIR=$BUILD_DIR_SAVED

# The 10,000 caps through a collector of their own (it migrates the database first).
load_caps() {
  start_bench_collector series-caps >&2
  load_bench_caps "$URL" "$LOAD_CAPS_BIN" "127.0.0.1:$GRPC_PORT" >/dev/null
  stop_bench_collector
  COLLECTOR_PID=
  COLLECTOR_LOG=
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Prints "LABEL over N runs: M (spread A to B; runs: ...)" for the ratios given.
print_median() {
  local label=$1
  shift
  python3 - "$label" "$@" <<'PY'
import statistics, sys
label, r = sys.argv[1], sorted(float(x) for x in sys.argv[2:])
print(f"{label} over {len(r)} runs: {statistics.median(r):.2f} "
      f"(spread {r[0]:.2f} to {r[-1]:.2f}; runs: {', '.join(f'{x:.2f}' for x in r)})")
PY
}

median_mode() {
  local runs=${1:-5} i out ratio ratios=()
  for i in $(seq 1 "$runs"); do
    new_cluster
    load_caps
    echo "run $i of $runs: load average $(loadavg) at start"
    out=$(bash "$ROOT/${SERIES_SCRIPT:-bench/ingest/run.sh}")
    echo "$out" | sed 's/^/  /'
    ratio=$(sed -nE 's/.*ratio [A-Za-z ]*ingest\/COPY: ([0-9.]+).*/\1/p' <<<"$out")
    ratios+=("$ratio")
    destroy_cluster
  done
  print_median "median ratio" "${ratios[@]}"
}

# One point: a fresh collector with WRITERS, EVENTS events over STREAMS streams in batches of
# BATCH; prints "X events_per_second rss_mib load1".
point() {
  local x=$1 writers=$2 streams=$3 batch=$4 events=$5 empty=$6 load1 out rate rss
  load1=$(cut -d' ' -f1 /proc/loadavg)
  # Emptied before the collector starts: a TRUNCATE during its start-up work can deadlock.
  if [[ $empty == yes ]]; then empty_bench_ledger; fi
  # The collector's write queue must admit what the load keeps in flight, or it answers
  # RESOURCE_EXHAUSTED, which ingest_load does not retry. ingest_load keeps 8 batches per stream
  # unacked, but a stream's next batch can arrive before the acked one leaves the queue: at 32
  # streams of 500, a queue of exactly 8 batches per stream (128,000) overflowed. So 16 per
  # stream, the collector's own --max-inflight-batches; never below the default 100,000.
  local queued=$((streams * batch * 16))
  if ((queued < 100000)); then queued=100000; fi
  # To stderr: the collector's stdout must not hold the caller's pipe (tee) open if this fails.
  start_bench_collector series --writers="$writers" --max-queued-events="$queued" >&2
  psql -qAt "$URL" -c "ANALYZE budgets" >/dev/null
  out=$("$INGEST_LOAD" "127.0.0.1:$GRPC_PORT" "$events" "$streams" "$batch")
  rate=$(sed -E 's/.*events_per_second=([0-9]+).*/\1/' <<<"$out")
  rss=$(($(awk '/VmHWM/ {print $2}' "/proc/$COLLECTOR_PID/status") / 1024))
  stop_bench_collector
  COLLECTOR_PID=
  COLLECTOR_LOG=
  echo "$x $rate $rss $load1"
}

plot() {
  local name=$1 xlabel=$2 logx=$3
  command -v gnuplot >/dev/null || { echo "  gnuplot missing (make deps installs gnuplot-nox): no plot" >&2; return 0; }
  gnuplot <<GP
set terminal pngcairo size 800,480 font "DejaVu Sans,10"
set output "$PLOT_DIR/ingest_$name.png"
set title "ingest against $xlabel (10,000 caps, durable PostgreSQL 15, 2 cores)"
set xlabel "$xlabel"
set ylabel "acked events/s"
set y2label "collector peak RSS (MiB)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key bottom right
set grid
$( [[ $logx == yes ]] && echo 'set logscale x 2' )
plot "$PLOT_DIR/ingest_$name.dat" using 1:2 with linespoints lw 2 title "acked events/s", \
     "" using 1:3 axes x1y2 with linespoints dt 2 title "peak RSS (MiB)"
GP
  echo "  plotted docs/perf/ingest_$name.png"
}

# Rows spread over the last 7 days, shaped like ingest_load's: runs of 12 steps, 8 features,
# 7,000 tenants. event_keys, steps and runs stay consistent (each stored step claimed once).
preload_ledger() {
  local target=$1 have add
  have=$(psql -qAt "$URL" -c "SELECT count(*) FROM event_keys")
  add=$((target - have))
  ((add > 0)) || return 0
  echo "  pre-loading $add steps with SQL (ledger to $target)"
  # The collector created partitions from yesterday on; older days are made here.
  psql -qAt -v ON_ERROR_STOP=1 "$URL" >/dev/null <<SQL
SET TIME ZONE 'UTC';  -- partition bounds are UTC days, as the collector makes them
DO \$\$ DECLARE d date; BEGIN
  FOR d IN SELECT generate_series(current_date - 7, current_date, '1 day')::date LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF steps FOR VALUES FROM (%L) TO (%L)',
                   'steps_p' || to_char(d, 'YYYYMMDD'), d, d + 1);
  END LOOP; END \$\$;
CREATE TEMP TABLE pre AS
  SELECT 'pre-$have-' || g AS event_id,
         now() - ((g % 604800) || ' seconds')::interval AS occurred_at,
         'run-pre-$have-' || (g / 12) AS parent_run_id, g
  FROM generate_series(1, $add) g;
INSERT INTO event_keys (event_id, digest, occurred_at, received_at)
  SELECT event_id, sha256(event_id::bytea), occurred_at, occurred_at FROM pre;
INSERT INTO steps (event_id, occurred_at, received_at, digest, feature, team, workload_class,
                   tenant, environment, parent_run_id, charged_feature, charged_team,
                   charged_workload_class, charged_tenant, attribution_status, step_id,
                   parent_step_id, kind, name, provider, model, input_uncached_tokens,
                   cache_read_tokens, output_tokens, reported_cost_nano_usd, cost_nano_usd,
                   cost_source, status, operation_id, attempt, started_at, ended_at, attributes)
  SELECT event_id, occurred_at, occurred_at, sha256(event_id::bytea),
         'feature-' || (g / 12) % 8, 'team-' || (g / 12) % 4, 'interactive',
         'tenant-' || (g / 12) % 7000, 'production', parent_run_id,
         'feature-' || (g / 12) % 8, 'team-' || (g / 12) % 4, 'interactive',
         'tenant-' || (g / 12) % 7000, 'complete', 'step-' || g % 12,
         CASE WHEN g % 12 = 0 THEN '' ELSE 'step-' || (g % 12) / 3 END, 'model_call', 'planner',
         'openai', 'gpt-4o', 1000 + g % 3000, g % 2000, 20 + g % 800, 10000 + g % 5000000,
         10000 + g % 5000000, 'reported', 'ok', 'op-' || g, 1, occurred_at,
         occurred_at + interval '3 seconds',
         '{"gateway": "litellm-proxy-7", "gen_ai.request.model": "gpt-4o"}'::jsonb
  FROM pre;
INSERT INTO runs (parent_run_id, first_seen, last_seen, last_received_at, root_step_id,
                  root_event_id, charged_feature, charged_team, charged_workload_class,
                  charged_tenant, environment, step_count, total_cost_nano_usd, unpriced_steps,
                  retry_steps, retry_cost_nano_usd, drift_steps, pending_steps, status)
  SELECT parent_run_id, min(occurred_at), max(occurred_at), max(occurred_at), 'step-0',
         min(event_id), 'feature-0', 'team-0', 'interactive', 'tenant-0', 'production',
         count(*), sum(10000 + g % 5000000), 0, 0, 0, 0, 0, 'rooted'
  FROM pre GROUP BY parent_run_id
  ON CONFLICT (parent_run_id) DO NOTHING;
SQL
  psql -qAt "$URL" -c "VACUUM ANALYZE event_keys, steps, runs" >/dev/null
  # The preload and its VACUUM leave gigabytes of dirty buffers: flushed here, not by a
  # checkpoint in the middle of the measured load (a ledger does not grow by millions of rows
  # just before a load in production).
  psql -qAt "$URL" -c "CHECKPOINT" >/dev/null
}

curves_mode() {
  local curves=("$@") events=${CURVE_EVENTS:-200000} c x f
  ((${#curves[@]})) || curves=(writers streams batch ledger)
  mkdir -p "$PLOT_DIR"
  new_cluster
  load_caps
  local ceiling_done=no
  for c in "${curves[@]}"; do
    f="$PLOT_DIR/ingest_$c.dat"
    {
      echo "# bench/ingest/series.sh curves $c: $(date -u +%FT%TZ), $(nproc) cores, $events events"
      echo "# columns: x acked_events_per_second collector_peak_rss_mib load_average_1min"
    } >"$f"
    echo "curve $c (load average $(loadavg) at start)"
    case $c in
      writers) for x in 1 2 4 8; do point "$x" "$x" 8 500 "$events" yes | tee -a "$f"; done ;;
      streams) for x in 1 2 4 8 16 32 64; do point "$x" 2 "$x" 500 "$events" yes | tee -a "$f"; done ;;
      batch) for x in 50 100 250 500 1000; do point "$x" 2 8 "$x" "$events" yes | tee -a "$f"; done ;;
      ledger)
        empty_bench_ledger
        for x in 0 ${CURVE_LEDGER_SIZES:-10000000}; do
          preload_ledger "$x"
          # The benchmark's own rows from the previous point are part of the ledger now.
          point "$x" 2 8 500 "$events" no | tee -a "$f"
        done
        ;;
      *) echo "unknown curve $c" >&2; return 2 ;;
    esac
    if [[ $ceiling_done == no && $c != ledger ]]; then
      copy_ceiling "$URL"
      echo "# raw COPY ceiling after the last point of this curve: $COPY_RATE rows/s" >>"$f"
      ceiling_done=yes
    fi
    case $c in
      writers) plot writers "writer connections (--writers)" no ;;
      streams) plot streams "streams (log scale)" yes ;;
      batch) plot batch "events per batch" no ;;
      ledger) plot ledger "stored steps before the load" no ;;
    esac
  done
}

store_mode() {
  local runs=${1:-3} events=${STORE_EVENTS:-500000} writers=${STORE_WRITERS:-2} i out ratio
  local ratios=() pm hz pg_before pg_after pg_cpu rate bench_cpu
  hz=$(getconf CLK_TCK)
  for i in $(seq 1 "$runs"); do
    new_cluster
    load_caps
    if [[ -n ${BENCH_EXTRA_SQL:-} ]]; then psql -qAt "$URL" -c "$BENCH_EXTRA_SQL" >/dev/null; fi
    empty_bench_ledger
    psql -qAt "$URL" -c "ANALYZE budgets" >/dev/null
    echo "store run $i of $runs: $events events, $writers writers, 10,000 caps; load average $(loadavg) at start"
    pm=$(sed -n 1p "$PG_DIR/data/postmaster.pid")
    pg_before=$(postgres_cpu_ticks "$pm")
    out=$("$BUILD_DIR/bench/ingest/ledger_store_load" "$URL" "$events" "$writers")
    sleep 1  # until the load's backends have exited and been reaped (copy_ceiling.sh)
    pg_after=$(($(postgres_cpu_ticks "$pm") - pg_before))
    pg_cpu=$(python3 -c "print(f'{$pg_after / $hz / $events * 1e6:.1f}')")
    echo "  store: $out postgres_cpu_us_per_event=$pg_cpu"
    copy_ceiling "$URL" "$pm"
    rate=$(sed -E 's/.*events_per_second=([0-9]+).*/\1/' <<<"$out")
    ratio=$(python3 -c "print(f'{$rate / $COPY_RATE:.2f}')")
    echo "  ratio store/COPY: $ratio"
    # What the CPU per event allows whatever the VM's speed at each moment: COPY keeps one core
    # busy, the store all of them, so at equal speed the ratio would be cores x COPY's CPU per
    # row / the store's CPU per event (PostgreSQL's and its own).
    bench_cpu=$(sed -E 's/.*bench_cpu_us_per_event=([0-9.]+).*/\1/' <<<"$out")
    python3 -c "print(f'  CPU bound store/COPY on $(nproc) cores: {$(nproc) * $COPY_PG_CPU_US / ($pg_cpu + $bench_cpu):.2f} (PostgreSQL {$pg_cpu / $COPY_PG_CPU_US:.2f} x COPY per row)')"
    ratios+=("$ratio")
    destroy_cluster
  done
  print_median "median ratio store/COPY" "${ratios[@]}"
}

# Summed utime + stime (clock ticks) of the processes whose ids are given.
cpu_ticks() {
  local pid sum=0
  for pid in "$@"; do
    if [[ -r /proc/$pid/stat ]]; then
      sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    fi
  done
  echo "$sum"
}

profile_mode() {
  local events=${PROFILE_EVENTS:-300000} perf_pid='' perf_data before_c before_pg out
  new_cluster
  psql -qAt "$URL" -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  bash "$PG_SH" stop "$PG_DIR"
  bash "$PG_SH" start "$PG_DIR" "$PG_PORT"
  load_caps
  if [[ -n ${BENCH_EXTRA_SQL:-} ]]; then psql -qAt "$URL" -c "$BENCH_EXTRA_SQL" >/dev/null; fi
  empty_bench_ledger  # before the collector starts: it reads the budget counters at start
  start_bench_collector profile --writers=2
  psql -qAt "$URL" -c "ANALYZE budgets" >/dev/null
  psql -qAt "$URL" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  psql -qAt "$URL" -c "SELECT pg_stat_statements_reset()" >/dev/null
  local pm
  pm=$(sed -n 1p "$PG_DIR/data/postmaster.pid")
  before_pg=$(postgres_cpu_ticks "$pm")
  before_c=$(cpu_ticks "$COLLECTOR_PID")
  if command -v perf >/dev/null; then
    perf_data=$(mktemp /tmp/stepledger-bench-perf.XXXXXX.data)
    perf record -q -g -F 999 -p "$COLLECTOR_PID" -o "$perf_data" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  echo "profile: $events events, 8 streams, batches of 500, 2 writers, 10,000 caps; load average $(loadavg)"
  out=$(/usr/bin/time -f 'client_cpu_s=%U+%S' "$INGEST_LOAD" "127.0.0.1:$GRPC_PORT" "$events" 8 500 2>&1)
  echo "  $out" | tr '\n' ' '; echo
  if [[ -n $perf_pid ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
  local hz after_c after_pg client
  hz=$(getconf CLK_TCK)
  after_c=$(cpu_ticks "$COLLECTOR_PID")
  after_pg=$(postgres_cpu_ticks "$pm")
  client=$(sed -nE 's/.*client_cpu_s=([0-9.]+)\+([0-9.]+).*/\1 + \2/p' <<<"$out")
  echo "  collector peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$COLLECTOR_PID/status")"
  python3 -c "e=$events; print(f'  CPU per event: collector {($after_c-$before_c)/$hz/e*1e6:.1f} us, PostgreSQL {($after_pg-$before_pg)/$hz/e*1e6:.1f} us, load client {($client)/e*1e6:.1f} us')"
  echo "  wall time inside PostgreSQL per event, by statement (both writers summed):"
  psql -qAt -F ' | ' "$URL" <<SQL | sed 's/^/    /'
SELECT round((total_exec_time * 1000 / $events)::numeric, 2) || ' us', calls,
       round((rows::numeric / calls), 0) || ' rows/call',
       left(regexp_replace(query, '\s+', ' ', 'g'), 90)
FROM pg_stat_statements WHERE total_exec_time * 1000 / $events > 0.05
ORDER BY total_exec_time DESC LIMIT 15
SQL
  if [[ -n $perf_pid ]]; then
    echo "  collector, perf: hottest symbols (self time)"
    perf report -i "$perf_data" --no-children --sort symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -25 | cut -c1-150 | sed 's/ *$//; s/^/   /' || true
    echo "  collector, perf: by library (self time)"
    perf report -i "$perf_data" --no-children --sort dso --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -10 | cut -c1-150 | sed 's/ *$//; s/^/   /' || true
    rm -f "$perf_data"
  fi
}

# The whole dispatch is one compound command ending in exit, so that editing this file while a
# long series runs cannot make bash read past the end of what it parsed.
{
  case $MODE in
    median) median_mode "$@" ;;
    curves) curves_mode "$@" ;;
    profile) profile_mode ;;
    store) store_mode "$@" ;;
    *) echo "usage: series.sh BUILD_DIR median [RUNS] | curves [writers|streams|batch|ledger ...]" \
         "| profile | store [RUNS]" >&2; exit 2 ;;
  esac
  exit
}
