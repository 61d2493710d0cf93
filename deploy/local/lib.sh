# shellcheck shell=bash
# Shared helpers for the deploy/local scripts; sourced, not run.

# Repository root: two levels above this file.
STEPLEDGER_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_SH="$STEPLEDGER_ROOT/deploy/local/pg.sh"

# True if something accepts TCP connections on 127.0.0.1:$1. Uses bash's /dev/tcp so that it
# needs neither ss nor nc.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a random port in 20000-29999 on which nothing listens. Stays clear of 55432, the
# default port of `make run`, so tests never collide with a running development cluster, and
# below Linux's ephemeral range (32768-60999), so an outgoing connection's local port never
# takes it between this check and the bind (package_deb once lost its gRPC port that way).
# Another process can still take the port before we bind it: callers retry on failure.
free_port() {
  local port _
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 10000))
    if ! port_in_use "$port"; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found in 20000-29999" >&2
  return 1
}

# Starts a throwaway cluster in $1 (options in $2..) on a free port, retrying with another port
# if one is taken meanwhile. Sets PG_PORT.
start_throwaway_cluster() {
  local dir=$1 _
  shift
  for _ in 1 2 3 4 5; do
    PG_PORT=$(free_port)
    if bash "$PG_SH" start "$dir" "$PG_PORT" "$@"; then
      return 0
    fi
    echo "retrying on another port" >&2
  done
  echo "could not start a PostgreSQL cluster in $dir" >&2
  return 1
}
