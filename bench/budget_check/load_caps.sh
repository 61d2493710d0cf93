# Sourced by bench/budget_check/run.sh and bench/budget_refresh/run.sh.
#
#   load_bench_caps URL LOAD_BINARY GRPC_TARGET
#
# Replaces whatever caps and counters the database holds with the benchmark's 10,000 caps
# (2,000 feature daily, 799 feature monthly, 200 team, 7,000 tenant, 1 org), COPYed straight
# into `budgets` (far faster than 10,000 PutBudget calls), and this period's spend for each in
# `spend_counters` (0..95% of the limit, so decisions mix ALLOW and ALERT). Then waits until the
# collector at GRPC_TARGET has picked them all up (its refresh runs every second). The collector
# must have started already: it applies the migrations.
load_bench_caps() {
  local url=$1 load=$2 target=$3
  psql -qAt -v ON_ERROR_STOP=1 "$url" -c "TRUNCATE budgets, budget_audit, acknowledgements, spend_counters" >/dev/null
  "$load" caps | psql -qAt -v ON_ERROR_STOP=1 "$url" -c "\\copy budgets (id, scope, key, environment, period, limit_nano_usd, action, alert_threshold_bps, owner, signed_off_by, shadow) FROM STDIN"
  psql -qAt -v ON_ERROR_STOP=1 "$url" >/dev/null <<'SQL'
INSERT INTO spend_counters (owner, scope, key, environment, period, period_start, spent_nano_usd)
SELECT 'bench-preload', scope, key, environment, period,
       CASE period
         WHEN 'daily' THEN date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
         ELSE date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
       END,
       (limit_nano_usd * random() * 0.95)::bigint
  FROM budgets;
SQL
  echo "10,000 caps COPYed (2,000 + 799 feature, 200 team, 7,000 tenant, 1 org)"
  "$load" wait-caps "$target" 10000 60
}
