# Sourced by the bench/*/run.sh scripts: one collector per benchmark, on loopback.
#
#   free_port
#       prints a free TCP port on 127.0.0.1
#   start_bench_collector NAME [FLAG ...]
#       starts $BUILD_DIR's collector on $URL with free gRPC and metrics ports and the FLAGs,
#       logging to a file under /tmp named after NAME; sets COLLECTOR_PID, GRPC_PORT,
#       METRICS_PORT and COLLECTOR_LOG, then waits up to 30 s for "collector ready" (on timeout
#       it prints the log and returns 1). Set a trap that calls stop_bench_collector first.
#   stop_bench_collector
#       stops it (if started) and removes its log
COLLECTOR_PID=
COLLECTOR_LOG=

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_bench_collector() {
  local name=$1
  shift
  GRPC_PORT=$(free_port)
  METRICS_PORT=$(free_port)
  COLLECTOR_LOG=$(mktemp "/tmp/stepledger-bench-$name-collector.XXXXXX.log")
  "$BUILD_DIR/server/stepledger-collector" --database-url="$URL" \
    --grpc-listen="127.0.0.1:$GRPC_PORT" --metrics-listen="127.0.0.1:$METRICS_PORT" \
    --otlp-http-listen= --insecure --insecure-no-auth "$@" \
    2>"$COLLECTOR_LOG" &
  COLLECTOR_PID=$!
  for _ in $(seq 1 150); do
    grep -q "collector ready" "$COLLECTOR_LOG" && return 0
    sleep 0.2
  done
  cat "$COLLECTOR_LOG"
  return 1
}

stop_bench_collector() {
  if [[ -n $COLLECTOR_PID ]]; then
    kill "$COLLECTOR_PID" 2>/dev/null || true
    wait "$COLLECTOR_PID" 2>/dev/null || true
  fi
  if [[ -n $COLLECTOR_LOG ]]; then rm -f "$COLLECTOR_LOG"; fi
}
