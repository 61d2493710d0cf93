#!/usr/bin/env bash
# Private PostgreSQL 15 clusters for stepledger: `make run` (a lasting one under .var/pg),
# `make test` / `make bench` (throwaway ones under /tmp) and the e2e tests (which start and stop
# their own to inject faults through $STEPLEDGER_PG_SH).
#
#   pg.sh start   DIR PORT [--fast]   create the cluster in DIR if needed, start it on
#                                     127.0.0.1:PORT, create database `stepledger` if missing
#   pg.sh stop    DIR [--immediate]   stop it (no error if it is not running); --immediate
#                                     simulates a crash (no shutdown checkpoint)
#   pg.sh status  DIR                 "running on port N (pid P)" and exit 0, or exit 3
#   pg.sh url     DIR PORT            print the connection URL
#   pg.sh destroy DIR                 stop it and delete DIR
#
# Layout of DIR: data/ (the cluster), sock/ (its Unix socket), postgres.log, .stepledger-pg
# (marker that lets `destroy` delete DIR). The superuser is `stepledger`, trust auth on loopback.
# --fast turns off fsync, synchronous_commit and full_page_writes: for tests only, a crash of
# the machine can corrupt such a cluster. Without it every setting is the durable default.
#
# initdb, pg_ctl and postgres refuse to run as root. As root the cluster belongs to the
# `postgres` user (created by Debian's postgresql-15 package): DIR is chowned to it and the
# server binaries run through runuser. As any other user they run as that user.
#
# Quiet on success; on failure prints what went wrong and the tail of the server log.
set -euo pipefail

PG_BIN=${STEPLEDGER_PG_BIN:-/usr/lib/postgresql/15/bin}
SUPERUSER=stepledger
DATABASE=stepledger

die() {
  echo "pg.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs a command as the cluster's owner. Runs from / because the caller's working directory
# (say /root) may be unreadable by postgres, and initdb/postgres complain about that.
as_owner() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# Prints the last lines of the server log, to explain a failure.
log_tail() {
  local log="$DIR/postgres.log"
  if [[ -f $log ]]; then
    echo "---- last lines of $log ----" >&2
    tail -n 30 "$log" >&2
    echo "----" >&2
  fi
}

is_running() {
  [[ -f $DIR/data/PG_VERSION ]] && as_owner "$PG_BIN/pg_ctl" status -D "$DIR/data" >/dev/null 2>&1
}

# Port of the running postmaster: line 4 of postmaster.pid.
running_port() { sed -n 4p "$DIR/data/postmaster.pid" 2>/dev/null; }
running_pid() { sed -n 1p "$DIR/data/postmaster.pid" 2>/dev/null; }

url() { echo "postgresql://$SUPERUSER@127.0.0.1:$1/$DATABASE"; }

# psql against the cluster over TCP, ignoring the caller's ~/.psqlrc.
psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
}

# Creates DIR and makes it the owner's. As root also checks that postgres can reach it: a
# checkout under /root (mode 700) cannot hold a cluster run by postgres.
prepare_dir() {
  mkdir -p "$DIR"
  touch "$DIR/.stepledger-pg"
  if is_root; then
    # Only walk the tree when needed (an earlier run as another user, or a fresh DIR).
    if [[ $(stat -c %U "$DIR") != postgres || ( -d $DIR/data && $(stat -c %U "$DIR/data") != postgres ) ]]; then
      chown -R postgres:postgres "$DIR"
    fi
    chmod 700 "$DIR"
    if ! runuser -u postgres -- test -w "$DIR"; then
      die "$DIR is not reachable by the postgres user (a parent directory is not traversable);" \
        "use a directory under /tmp"
    fi
  elif [[ ! -O $DIR ]]; then
    die "$DIR belongs to $(stat -c %U "$DIR"), not $(id -un): it was created by another user" \
      "(as root it belongs to postgres); remove it as that user or as root"
  fi
}

init_cluster() {
  local out
  if ! out=$(as_owner "$PG_BIN/initdb" -D "$DIR/data" -U "$SUPERUSER" --auth=trust -E UTF8 \
    --locale=C 2>&1); then
    echo "$out" >&2
    die "initdb failed in $DIR/data"
  fi
  # Our settings live in a file of their own, rewritten at every start (the port, socket
  # directory and durability can change between starts).
  echo "include_if_exists = 'stepledger.conf'" >>"$DIR/data/postgresql.conf"
}

# A quarter of the machine's memory, between 128 MB and 4 GB (PostgreSQL's usual advice).
shared_buffers_mb() {
  local total_kb
  total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)
  local mb=$((total_kb / 1024 / 4))
  ((mb < 128)) && mb=128
  ((mb > 4096)) && mb=4096
  echo "$mb"
}

# Quotes a value for postgresql.conf.
conf_quote() { printf "'%s'" "${1//\'/\'\'}"; }

write_conf() {
  local fast=$1 conf="$DIR/data/stepledger.conf" sockdir="$DIR/sock"
  mkdir -p "$sockdir"
  # A Unix socket path is limited to 107 bytes; a deep checkout would exceed it. Everything
  # here connects over TCP, so then the cluster simply gets no Unix socket.
  if (( ${#sockdir} + ${#PORT} + 10 > 107 )); then
    sockdir=""
  fi
  {
    echo "# Written by deploy/local/pg.sh at every start: edit that script, not this file."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PORT"
    echo "unix_socket_directories = $(conf_quote "$sockdir")"
    echo "max_connections = 200"
    # Sized like a production server rather than PostgreSQL's defaults (128 MB of buffers, a
    # checkpoint every 1 GB of WAL): the ledger's working set then stays in memory, and bulk
    # ingest does not force a checkpoint (and a burst of full-page images) every few seconds.
    echo "shared_buffers = '$(shared_buffers_mb)MB'"
    echo "max_wal_size = '4GB'"
    if [[ $fast == yes ]]; then
      echo "# --fast: throwaway test cluster, durability off."
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    else
      echo "fsync = on"
      echo "synchronous_commit = on"
      echo "full_page_writes = on"
    fi
  } >"$conf"
  if is_root; then
    chown postgres:postgres "$conf" "$DIR/sock"
  fi
}

ensure_database() {
  local exists
  if ! exists=$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" 2>&1)
  then
    echo "$exists" >&2
    log_tail
    die "cannot connect to $(url "$PORT")"
  fi
  if [[ $exists != 1 ]]; then
    psql_admin -c "CREATE DATABASE $DATABASE" >/dev/null || die "CREATE DATABASE failed"
  fi
}

cmd_start() {
  local fast=no
  if [[ ${1:-} == --fast ]]; then
    fast=yes
  elif [[ -n ${1:-} ]]; then
    usage
  fi
  [[ $PORT =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$PORT'"
  [[ -x $PG_BIN/postgres ]] || die "no PostgreSQL server in $PG_BIN (run: make deps)"

  prepare_dir
  # Serialise concurrent starts/stops of the same DIR (two `make run`s, say).
  exec 9>"$DIR/.lock"
  flock 9

  if is_running; then
    local port
    port=$(running_port)
    [[ $port == "$PORT" ]] || die "cluster in $DIR is already running on port $port, not $PORT" \
      "(stop it first: $0 stop $DIR)"
  else
    [[ -f $DIR/data/PG_VERSION ]] || init_cluster
    write_conf "$fast"
    local out
    # 9>&-: the postmaster must not inherit the lock, or it would hold it for its lifetime.
    if ! out=$(as_owner "$PG_BIN/pg_ctl" start -w -t 120 -D "$DIR/data" -l "$DIR/postgres.log" \
      2>&1 9>&-); then
      echo "$out" >&2
      log_tail
      die "could not start PostgreSQL in $DIR on port $PORT (is the port taken?)"
    fi
  fi
  ensure_database
}

cmd_stop() {
  local mode=fast
  if [[ ${1:-} == --immediate ]]; then
    mode=immediate
  elif [[ -n ${1:-} ]]; then
    usage
  fi
  [[ -d $DIR ]] || return 0
  is_running || return 0
  local out
  if ! out=$(as_owner "$PG_BIN/pg_ctl" stop -D "$DIR/data" -m "$mode" -w -t 120 2>&1); then
    echo "$out" >&2
    log_tail
    die "could not stop PostgreSQL in $DIR"
  fi
}

cmd_status() {
  if is_running; then
    echo "running on port $(running_port) (pid $(running_pid)), data in $DIR/data"
  else
    echo "not running (${DIR})"
    exit 3
  fi
}

cmd_destroy() {
  [[ -e $DIR ]] || return 0
  # Refuse to delete a directory this script did not create.
  [[ -f $DIR/.stepledger-pg ]] || die "$DIR was not created by pg.sh; not deleting it"
  cmd_stop
  rm -rf "$DIR"
}

[[ $# -ge 2 ]] || usage
CMD=$1
DIR=$(realpath -m -- "$2")
shift 2
case $CMD in
  start)
    [[ $# -ge 1 ]] || usage
    PORT=$1
    shift
    cmd_start "$@"
    ;;
  stop) cmd_stop "$@" ;;
  status) cmd_status ;;
  url)
    [[ $# -eq 1 ]] || usage
    url "$1"
    ;;
  destroy) cmd_destroy ;;
  *) usage ;;
esac
