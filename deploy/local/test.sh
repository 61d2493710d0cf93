#!/usr/bin/env bash
# Runs every ctest test of a build directory against a throwaway PostgreSQL cluster.
#
#   deploy/local/test.sh [BUILD_DIR]      BUILD_DIR defaults to build/release (make asan passes
#                                         build/asan); extra ctest arguments come from CTEST_ARGS
#
# The cluster lives in a fresh directory under /tmp, on a random free port (never 55432, so a
# running `make run` is left alone), with durability off for speed; it is stopped and deleted
# whatever happens. Tests find it through:
#   STEPLEDGER_TEST_DATABASE_URL  postgresql://stepledger@127.0.0.1:PORT/stepledger (superuser)
#   STEPLEDGER_PG_SH              absolute path of pg.sh, to run private clusters (e2e faults)
#   STEPLEDGER_SOURCE_DIR         the repository root
#   STEPLEDGER_BUILD_DIR          the absolute build directory
#   STEPLEDGER_TEST_SECURITY_DIR  a test CA, a server certificate for 127.0.0.1/localhost and an
#                                 admin key (deploy/local/security.sh), made once per run: every
#                                 e2e collector serves TLS with keys (docs/SECURITY.md, "Tests")
# Exits with ctest's status; fails as well if ctest found no tests at all.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$STEPLEDGER_ROOT"

BUILD_DIR=$(realpath -m "${1:-build/release}")
[[ -f $BUILD_DIR/CTestTestfile.cmake ]] || {
  echo "test.sh: $BUILD_DIR is not a configured build directory (run make build)" >&2
  exit 1
}

PG_DIR=$(mktemp -d /tmp/stepledger-test.XXXXXX)
SEC_DIR=$(mktemp -d /tmp/stepledger-test-security.XXXXXX)
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  bash "$PG_SH" destroy "$PG_DIR" || echo "test.sh: could not remove $PG_DIR" >&2
  rm -rf "$SEC_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_throwaway_cluster "$PG_DIR" --fast

export STEPLEDGER_TEST_DATABASE_URL
STEPLEDGER_TEST_DATABASE_URL=$(bash "$PG_SH" url "$PG_DIR" "$PG_PORT")
export STEPLEDGER_PG_SH="$PG_SH"
export STEPLEDGER_SOURCE_DIR="$STEPLEDGER_ROOT"
export STEPLEDGER_BUILD_DIR="$BUILD_DIR"
# shellcheck source=deploy/local/security.sh
source "$STEPLEDGER_ROOT/deploy/local/security.sh"
security_init "$SEC_DIR"
export STEPLEDGER_TEST_SECURITY_DIR="$SEC_DIR"
# Sanitizer builds: make UBSan findings fail the test instead of only printing.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "test.sh: PostgreSQL for tests at $STEPLEDGER_TEST_DATABASE_URL (data in $PG_DIR)"

# CTEST_ARGS is split on spaces on purpose (e.g. CTEST_ARGS="-L unit -R Validation").
# --no-tests=error: an empty test list is a failure, not a silent success.
status=0
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 900 --no-tests=error \
  ${CTEST_ARGS:-} || status=$?
exit "$status"
