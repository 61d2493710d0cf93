# Sourced by the ingest benchmarks (bench/ingest, bench/otlp): the physical limit they are
# measured against, so that both use one definition of it.
#
#   copy_ceiling URL [POSTMASTER_PID]
#       dumps the rows of `steps` (what the benchmark just stored), COPYs them with one psql
#       session into an empty table of the same shape (same columns, constraints and indexes),
#       prints "  raw COPY: N rows in S s = R rows/s" and sets COPY_RATE (rows/s). Given the
#       cluster's postmaster, it also prints and sets COPY_PG_CPU_US: PostgreSQL's CPU per row
#       during the COPY (every process of the cluster; psql's own is not in it).
#   postgres_cpu_ticks POSTMASTER_PID
#       CPU clock ticks of a whole cluster so far: the postmaster's own and its exited
#       children's (fields 14-17 of its /proc stat), plus its live children's. Backends that
#       connected and exited between two readings are in the difference once they have been
#       reaped (allow a moment after the client returns).
postgres_cpu_ticks() {
  local pm=$1 pid sum
  sum=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
  for pid in $(pgrep -P "$pm"); do
    if [[ -r /proc/$pid/stat ]]; then sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); fi
  done
  echo "$sum"
}

copy_ceiling() {
  local url=$1 pm=${2:-} dump rows start end cpu_before=0 cpu=''
  dump=$(mktemp /tmp/stepledger-bench-rows.XXXXXX.copy)
  chmod 644 "$dump"
  psql -qAt "$url" -c "\\copy (SELECT * FROM steps) TO '$dump'" >/dev/null
  rows=$(wc -l <"$dump")
  psql -qAt "$url" -c "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE steps INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)" >/dev/null
  if [[ -n $pm ]]; then cpu_before=$(postgres_cpu_ticks "$pm"); fi
  start=$(date +%s.%N)
  psql -qAt "$url" -c "\\copy bench_copy FROM '$dump'" >/dev/null
  end=$(date +%s.%N)
  if [[ -n $pm ]]; then
    # The backend's CPU reaches the postmaster's own fields only once it has exited and been
    # reaped, a moment after psql returns.
    sleep 1
    COPY_PG_CPU_US=$(python3 -c "print(f'{($(postgres_cpu_ticks "$pm") - $cpu_before) / $(getconf CLK_TCK) / $rows * 1e6:.1f}')")
    cpu=", PostgreSQL CPU $COPY_PG_CPU_US us/row"
  fi
  psql -qAt "$url" -c "DROP TABLE bench_copy" >/dev/null
  rm -f "$dump"
  COPY_RATE=$(python3 -c "print(round($rows / ($end - $start)))")
  echo "  raw COPY: $rows rows in $(python3 -c "print(round($end - $start, 2))") s = $COPY_RATE rows/s$cpu"
}
