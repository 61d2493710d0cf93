#!/usr/bin/env bash
# Runs the benchmarks against a throwaway PostgreSQL cluster configured like production
# (fsync, synchronous_commit and full_page_writes on).
#
#   deploy/local/bench.sh [BUILD_DIR]     BUILD_DIR defaults to build/release
#
# Runs every BUILD_DIR/bench/*_bench binary (in-process micro-benchmarks), then every executable
# bench/*/run.sh (load benchmarks against real processes). Both get the environment of
# test.sh plus STEPLEDGER_BENCH_DATABASE_URL (the same database). Exits non-zero if any of them
# failed, after running all of them.
#
#   BENCH_ONLY=budget deploy/local/bench.sh build/h13   runs only the benchmarks whose path (the
#       binary's or the run.sh's) contains BENCH_ONLY as a substring; empty or unset: all.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STEPLEDGER_ROOT"

BUILD_DIR=$(realpath -m "${1:-build/release}")
BENCH_ONLY=${BENCH_ONLY:-}

# /var/tmp rather than /tmp: /tmp may be a tmpfs (Debian 13 makes it one), where fsync costs
# nothing and the figures would flatter us; /var/tmp is always on disk.
PG_DIR=$(mktemp -d /var/tmp/stepledger-bench.XXXXXX)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  bash "$PG_SH" destroy "$PG_DIR" || echo "bench.sh: could not remove $PG_DIR" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_throwaway_cluster "$PG_DIR"
# initdb, and whatever ran before (a previous benchmark's cluster being deleted), leave dirty
# pages whose writeback would otherwise compete with the first benchmark.
sync

STEPLEDGER_BENCH_DATABASE_URL=$(bash "$PG_SH" url "$PG_DIR" "$PG_PORT")
export STEPLEDGER_BENCH_DATABASE_URL
export STEPLEDGER_TEST_DATABASE_URL="$STEPLEDGER_BENCH_DATABASE_URL"
export STEPLEDGER_PG_SH="$PG_SH"
export STEPLEDGER_SOURCE_DIR="$STEPLEDGER_ROOT"
export STEPLEDGER_BUILD_DIR="$BUILD_DIR"

echo "bench.sh: PostgreSQL (durable settings) at $STEPLEDGER_BENCH_DATABASE_URL (data in $PG_DIR)"

failed=()
ran=0
run_one() {
  # A filter keeps a long benchmark suite out of the way when only one area is being measured.
  if [[ -n $BENCH_ONLY && $* != *"$BENCH_ONLY"* ]]; then return 0; fi
  echo
  echo "==== $* ===="
  ran=$((ran + 1))
  "$@" || failed+=("$*")
}

shopt -s nullglob
for bin in "$BUILD_DIR"/bench/*_bench; do
  if [[ -f $bin && -x $bin ]]; then run_one "$bin"; fi
done
for script in "$STEPLEDGER_ROOT"/bench/*/run.sh; do
  if [[ -x $script ]]; then run_one "$script"; fi
done

echo
if ((ran == 0)); then
  echo "bench.sh: no benchmarks found (no $BUILD_DIR/bench/*_bench, no executable" \
    "bench/*/run.sh${BENCH_ONLY:+ matching BENCH_ONLY=$BENCH_ONLY})"
elif ((${#failed[@]})); then
  echo "bench.sh: ${#failed[@]} of $ran benchmarks failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
else
  echo "bench.sh: $ran benchmarks done"
fi
