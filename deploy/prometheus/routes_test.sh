#!/usr/bin/env bash
# Checks that deploy/prometheus/alertmanager.yml is valid and routes the alerts of every cap in
# examples/budgets.json to that cap's owner: for each distinct `owner`, an alert labelled
# team=<owner> (as alert_rules.yml labels budget alerts) must reach a receiver named after the
# owner, at warning and at page severity, never the catch-all stepledger-operators.
# Run by ctest as prometheus_alert_routes; needs amtool (Debian: prometheus-alertmanager).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONFIG="$ROOT/deploy/prometheus/alertmanager.yml"
CAPS="$ROOT/examples/budgets.json"
AMTOOL=${AMTOOL:-amtool}

"$AMTOOL" check-config "$CONFIG" >/dev/null
mapfile -t owners < <(grep -o '"owner": *"[^"]*"' "$CAPS" | sed 's/.*: *"\(.*\)"/\1/' | sort -u)
if [[ ${#owners[@]} -eq 0 ]]; then
  echo "routes_test: no cap owners found in $CAPS" >&2
  exit 1
fi
failed=0 checked=0
for owner in "${owners[@]}"; do
  for severity in warning page; do
    receiver=$("$AMTOOL" config routes test --config.file="$CONFIG" "team=$owner" \
      "severity=$severity" 2>/dev/null)
    checked=$((checked + 1))
    if [[ $receiver != "$owner"* ]]; then
      echo "FAIL: an alert for owner $owner ($severity) goes to '$receiver'" >&2
      failed=$((failed + 1))
    else
      echo "ok: owner $owner ($severity) -> $receiver"
    fi
  done
done
echo "$((checked - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
