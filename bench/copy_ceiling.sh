# Sourced by the ingest benchmarks (bench/ingest, bench/otlp): the physical limit they are
# measured against, so that both use one definition of it.
#
#   copy_ceiling URL
#       dumps the rows of `steps` (what the benchmark just stored), COPYs them with one psql
#       session into an empty table of the same shape (same columns, constraints and indexes),
#       prints "  raw COPY: N rows in S s = R rows/s" and sets COPY_RATE (rows/s)
copy_ceiling() {
  local url=$1 dump rows start end
  dump=$(mktemp /tmp/stepledger-bench-rows.XXXXXX.copy)
  chmod 644 "$dump"
  psql -qAt "$url" -c "\\copy (SELECT * FROM steps) TO '$dump'" >/dev/null
  rows=$(wc -l <"$dump")
  psql -qAt "$url" -c "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE steps INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)" >/dev/null
  start=$(date +%s.%N)
  psql -qAt "$url" -c "\\copy bench_copy FROM '$dump'" >/dev/null
  end=$(date +%s.%N)
  psql -qAt "$url" -c "DROP TABLE bench_copy" >/dev/null
  rm -f "$dump"
  COPY_RATE=$(python3 -c "print(round($rows / ($end - $start)))")
  echo "  raw COPY: $rows rows in $(python3 -c "print(round($end - $start, 2))") s = $COPY_RATE rows/s"
}
