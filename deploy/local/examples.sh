# shellcheck shell=bash
# The examples `make run` loads (sourced by deploy/local/run.sh; docs/OPERATING.md, "make run").
#
# Examples go into an EMPTY database only: once it holds caps or steps, a restart of `make run`
# leaves them alone (so caps a user changed stay as they are) and says so loudly; and the
# shipped price catalogs are loaded at start only while the newest stored price version came
# from them (a catalog loaded with `stepledger prices load` is not undone). Start from scratch
# with `make distclean && make run`.
#
#   examples_database_state URL     prints "empty", or what the database already holds
#   examples_price_source URL FILE  "shipped", or where the newest stored price version came from
#   examples_redate IN OUT          the example run, moved to today (see below)
#   examples_load CLIENT TARGET URL [DATED]
#                                   waits for the collector, then applies the example caps and
#                                   sends the re-dated example run (written to DATED, default
#                                   .var/examples/steps-today.jsonl), or says why it does not

# psql from the PostgreSQL that pg.sh runs.
examples_psql() {
  "${STEPLEDGER_PG_BIN:-/usr/lib/postgresql/15/bin}/psql" -X -q -At -v ON_ERROR_STOP=1 "$1" \
    -c "$2"
}

# "empty" when the database has no caps and no steps (or is not migrated yet); otherwise what
# it holds, e.g. "5 caps and 9 steps".
examples_database_state() {
  local url=$1 migrated counts
  migrated=$(examples_psql "$url" "SELECT to_regclass('budgets') IS NOT NULL
    AND to_regclass('steps') IS NOT NULL") || return 1
  if [[ $migrated != t ]]; then
    echo empty
    return 0
  fi
  counts=$(examples_psql "$url" "SELECT (SELECT count(*) FROM budgets) || ' caps and ' ||
    (SELECT count(*) FROM steps) || ' steps'") || return 1
  if [[ $counts == "0 caps and 0 steps" ]]; then echo empty; else echo "$counts"; fi
}

# Whether `make run` may load the shipped catalogs at start: "shipped" when no price version is
# stored yet or the newest one came from the shipped model catalog $2 (loading it again is a
# no-op unless the file was edited, which is then the point); otherwise the source of the newest
# version (a catalog the user loaded with `stepledger prices load`), which a restart must not
# undo.
examples_price_source() {
  local url=$1 shipped=$2 exists newest
  exists=$(examples_psql "$url" "SELECT to_regclass('price_versions') IS NOT NULL") || return 1
  if [[ $exists != t ]]; then
    echo shipped
    return 0
  fi
  newest=$(examples_psql "$url" "SELECT model_source FROM price_versions
    ORDER BY effective_from DESC LIMIT 1") || return 1
  if [[ -z $newest || $newest == "$shipped" ]]; then echo shipped; else echo "$newest"; fi
}

# examples/steps.jsonl is one agent run on 2026-11-28 from 09:14 to 09:15 UTC. Budgets are
# calendar periods, so a run from that day would show no spend in the current period: this
# writes a copy with the run on today's date, at 09:14 UTC once that time has passed, else at
# 00:14 UTC (so that the run lies in today's daily and monthly periods from 00:16 UTC on), and
# only in the first 16 minutes of a day at 09:14 yesterday: no step lies in the future. Within
# one of those windows the copy is the same, so sending it again is harmless (duplicates).
examples_redate() {
  local in=$1 out=$2 now day hour=09
  now=$((10#$(date -u +%H%M)))
  day=$(date -u +%Y-%m-%d)
  if ((now < 16)); then
    day=$(date -u -d yesterday +%Y-%m-%d)
  elif ((now < 916)); then
    hour=00
  fi
  mkdir -p "$(dirname "$out")"
  sed "s/\"2026-11-28T09:/\"${day}T${hour}:/g" "$in" >"$out"
}

examples_load() {
  local client=$1 target=$2 url=$3 dated=${4:-.var/examples/steps-today.jsonl}
  local caps=examples/budgets.json steps=examples/steps.jsonl state _
  if ! [[ -x $client ]] || ! "$client" budget --help >/dev/null 2>&1; then
    echo "run.sh: $client has no 'budget' command (run make build); not loading the examples" >&2
    return 0
  fi
  for _ in $(seq 1 120); do
    if port_in_use "${target##*:}"; then break; fi
    sleep 0.5
  done
  if ! state=$(examples_database_state "$url"); then
    echo "run.sh: cannot tell whether the database is empty; not loading the examples" >&2
    return 0
  fi
  if [[ $state != empty ]]; then
    {
      echo
      echo "run.sh: ******************************************************************"
      echo "run.sh: NOT loading the examples: the database already holds $state."
      echo "run.sh: Your caps and prices stay as they are. To start from the examples again:"
      echo "run.sh:   make distclean && make run     (deletes the make-run database)"
      echo "run.sh: ******************************************************************"
      echo
    } >&2
    return 0
  fi
  if [[ -f $caps ]]; then
    echo "run.sh: applying example budgets from $caps" >&2
    for _ in 1 2 3 4 5; do
      if "$client" --target="$target" budget apply "$caps" --by make-run >&2; then break; fi
      sleep 1
    done
  fi
  if [[ -f $steps ]]; then
    examples_redate "$steps" "$dated"
    echo "run.sh: sending the example run, re-dated to $(grep -o '"startedAt":"[0-9-]*' \
      "$dated" | head -1 | cut -d'"' -f4), from $dated" >&2
    "$client" --target="$target" send "$dated" >&2 ||
      echo "run.sh: sending $dated failed (the collector keeps running)" >&2
  fi
}
