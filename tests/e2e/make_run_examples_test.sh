#!/usr/bin/env bash
# E2E (issue 20 item 4): what `make run` loads (deploy/local/examples.sh), against a real
# PostgreSQL and a real collector. Into an empty database the example caps are applied and the
# example run is sent re-dated to today, so its spend counts in the current budget periods
# (`budget check` shows it spent); a second load leaves the database alone and says so; the
# shipped catalogs stay "shipped" until another catalog is loaded. Then the README tour's
# commands, as written there, against this TLS collector with make run's keys, including its
# Python step (examples/python/agent.py) with the client installed as the README installs it.
#   tests/e2e/make_run_examples_test.sh COLLECTOR_BIN CLI_BIN VENV_PYTHON   (run by ctest;
#   VENV_PYTHON: the python of a venv holding client/python, made by pyclient_install)
set -euo pipefail
COLLECTOR=$1
CLIENT=$2
PYTHON=$3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
# shellcheck source=deploy/local/lib.sh
source deploy/local/lib.sh
# shellcheck source=deploy/local/examples.sh
source deploy/local/examples.sh
# shellcheck source=deploy/local/security.sh
source deploy/local/security.sh

WORK=$(mktemp -d /tmp/stepledger-examples-e2e.XXXXXX)
PG_DIR=$(mktemp -d /tmp/stepledger-examples-pg.XXXXXX)  # pg.sh hands it to the postgres user
CPID=
cleanup() {
  if [[ -n $CPID ]]; then
    kill "$CPID" 2>/dev/null || true
    wait "$CPID" 2>/dev/null || true
  fi
  bash "$PG_SH" destroy "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0 failed=0
check() {  # check NAME COMMAND...: one assertion
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $name" >&2
    failed=$((failed + 1))
  fi
}

start_throwaway_cluster "$PG_DIR" --fast
URL=$(bash "$PG_SH" url "$PG_DIR" "$PG_PORT")
GRPC=$(free_port)
METRICS=$(free_port)
SHIPPED="$ROOT/catalog/model_prices_and_context_window.json"

check "a new database is empty" test "$(examples_database_state "$URL")" = empty
check "a new database takes the shipped catalogs" \
  test "$(examples_price_source "$URL" "$SHIPPED")" = shipped

# TLS and keys as make run makes them (deploy/local/security.sh), in the test's own folder.
security_init "$WORK/security"
export STEPLEDGER_CA_CERT="$WORK/security/ca.pem" STEPLEDGER_API_KEY_FILE="$WORK/security/admin.key"
"$COLLECTOR" --database-url="$URL" --grpc-listen="127.0.0.1:$GRPC" --metrics-listen="127.0.0.1:$METRICS" \
  --tls-cert="$WORK/security/server.pem" --tls-key="$WORK/security/server.key" \
  --bootstrap-admin-key-file="$WORK/security/admin.key" \
  --otlp-http-listen= --rollup-schedule=false --price-catalog="$SHIPPED" \
  --tool-prices="$ROOT/catalog/tool_prices.txt" >"$WORK/collector.log" 2>&1 &
CPID=$!

# The re-dated copy goes to the test's own folder, not the checkout's .var/.
examples_load "$CLIENT" "127.0.0.1:$GRPC" "$URL" "$WORK/steps-today.jsonl" 2>"$WORK/first.log" ||
  true
check "the first load applies the caps" grep -q "applying example budgets" "$WORK/first.log"
check "the first load sends the run re-dated" grep -q "sending the example run, re-dated to" \
  "$WORK/first.log"
check "five caps and nine steps stored" \
  test "$(examples_database_state "$URL")" = "5 caps and 9 steps"
today=$(date -u +%F)
yesterday=$(date -u -d yesterday +%F)
day=$(examples_psql "$URL" "SELECT DISTINCT (occurred_at AT TIME ZONE 'UTC')::date FROM steps")
if ((10#$(date -u +%H%M) >= 16)); then
  check "the run lies today, not on 2026-11-28" test "$day" = "$today"
else
  check "the run lies yesterday (the first minutes of a day), not on 2026-11-28" \
    test "$day" = "$yesterday"
fi
check "no step lies in the future" \
  test "$(examples_psql "$URL" "SELECT count(*) FROM steps WHERE occurred_at > now()")" = 0
"$CLIENT" --target="127.0.0.1:$GRPC" budget check --feature inbox-triage --team mail-assist \
  --tenant northwind-traders --workload-class interactive --env production \
  --run run-inbox-triage-7f3a --estimate-usd 0.01 >"$WORK/check.log" 2>&1 || true
spent=$(awk '$1 == "team-mail-assist-monthly" { print $6 }' "$WORK/check.log")
# The daily cap: today's run is in its current period (yesterday's only before 00:16 UTC).
daily=$(awk '$1 == "feature-inbox-triage-daily" { print $6 }' "$WORK/check.log")
if [[ $day == "$today" ]]; then
  check "the daily and monthly caps have spend in their current periods (${daily:-none}, ${spent:-none})" \
    test -n "$spent" -a "$spent" != "\$0.00" -a -n "$daily" -a "$daily" != "\$0.00"
fi

examples_load "$CLIENT" "127.0.0.1:$GRPC" "$URL" "$WORK/steps-today.jsonl" 2>"$WORK/second.log" ||
  true
security_example_keys "$CLIENT" "127.0.0.1:$GRPC" "$WORK/security"
check "make run's example keys are made, readable by their owner only" \
  test "$(stat -c %a "$WORK/security/ingest.key")" = 600
check "an example ingest key may not change caps" \
  bash -c "STEPLEDGER_API_KEY_FILE='$WORK/security/ingest.key' '$CLIENT' \
    --target=127.0.0.1:$GRPC budget delete team-mail-assist-monthly --by e2e 2>&1 |
    grep -q PERMISSION_DENIED"
check "without a key nothing is answered" \
  bash -c "STEPLEDGER_API_KEY_FILE= '$CLIENT' --target=127.0.0.1:$GRPC budget list 2>&1 |
    grep -q UNAUTHENTICATED"
check "the second load says loudly it loads nothing" \
  grep -q "NOT loading the examples: the database already holds 5 caps and 9 steps" \
  "$WORK/second.log"
check "the second load changes nothing" \
  test "$(examples_database_state "$URL")" = "5 caps and 9 steps"
check "the stored prices came from the shipped catalog" \
  test "$(examples_price_source "$URL" "$SHIPPED")" = shipped
examples_psql "$URL" "UPDATE price_versions SET model_source = '/elsewhere/catalog.json'
  WHERE effective_from = (SELECT max(effective_from) FROM price_versions)" >/dev/null
check "a catalog loaded since is not replaced at the next start" \
  test "$(examples_price_source "$URL" "$SHIPPED")" = /elsewhere/catalog.json

# The README tour (terminal 2), with the CA and admin key exported as above and as make run
# prints; the tour's .var/examples/steps-today.jsonl is this test's copy.
export STEPLEDGER_TARGET="127.0.0.1:$GRPC"
tour() {  # tour NAME COMMAND...: the command exits 0; its output goes to $WORK/tour.log
  check "tour: $1" "${@:2}" >>"$WORK/tour.log" 2>&1
}
tour "send is harmless again" bash -c "'$CLIENT' send '$WORK/steps-today.jsonl' |
  grep -q 'accepted 0, duplicates 9, rejected 0'"
tour "the Python agent records its run over TLS with the key" bash -c \
  "'$PYTHON' examples/python/agent.py >'$WORK/agent.log' 2>&1 &&
   grep -q 'budget: ALLOW' '$WORK/agent.log' &&
   grep -q 'recorded 6: accepted 6, duplicates 0, rejected 0, unacked 0' '$WORK/agent.log'"
agent_run=$(awk '$1 == "run" { print $2 }' "$WORK/agent.log" 2>/dev/null || true)
tour "run show prints the agent's run" bash -c "'$CLIENT' run show '${agent_run:-none}' |
  grep -q synthesize"
tour "run show prints the example run" "$CLIENT" run show run-inbox-triage-7f3a
tour "budget list" "$CLIENT" budget list
# Exit 0 for ALLOW or ALERT, 2 for REQUIRE_ACK (the README says so); anything else fails.
tour "budget check" bash -c "'$CLIENT' budget check --feature inbox-triage --team mail-assist \
  --tenant northwind-traders --workload-class interactive --env production \
  --run run-inbox-triage-7f3a --estimate-usd 0.50; ((\$? == 0 || \$? == 2))"
tour "budget pending: the example caps await a second key's sign-off" bash -c \
  "'$CLIENT' budget pending | grep -q 'cap team-mail-assist-monthly revision 1 in force, awaiting'"
tour "the example budget-admin key signs a cap off" bash -c \
  "STEPLEDGER_API_KEY_FILE='$WORK/security/budget-admin.key' '$CLIENT' budget approve \
     --id team-mail-assist-monthly --reason 'FY27 budget line' | grep -q 'signed off by key:'"
tour "rollup" "$CLIENT" rollup --day "$(date -u +%F)"
tour "report showback" "$CLIENT" report showback
tour "report showback as HTML" "$CLIENT" report showback --format html --out "$WORK/showback.html"

if ((failed > 0)); then
  echo "--- first load" >&2
  cat "$WORK/first.log" >&2
  echo "--- budget check" >&2
  cat "$WORK/check.log" >&2
  echo "--- tour" >&2
  cat "$WORK/tour.log" "$WORK/agent.log" >&2 2>/dev/null || true
fi
echo "$passed passed, $failed failed"
((failed == 0))
