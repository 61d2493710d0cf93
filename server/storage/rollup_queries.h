// Named SQL of the daily rollup and the showback report. Parameters are always bound.
//
// Day bounds are passed as timestamptz text ($2 start inclusive, $3 end exclusive) so that
// the ledger's partitions on occurred_at are pruned; $1 is the day as a date.
#ifndef STEPLEDGER_SERVER_STORAGE_ROLLUP_QUERIES_H_
#define STEPLEDGER_SERVER_STORAGE_ROLLUP_QUERIES_H_

namespace stepledger::storage::queries {

// The day's row in rollup_days, locked so two rollups of one day (which the session lock
// already prevents) could never interleave.
inline constexpr char kSelectRollupDay[] =
    "SELECT first_rolled_at FROM rollup_days WHERE day = $1::date FOR UPDATE";

// A retired day (migration 0020) has no raw ledger left to roll up from.
inline constexpr char kSelectRetiredDay[] = R"sql(
  SELECT d.source_rows, d.total_cost_nano_usd, d.correction_cost_nano_usd
  FROM ledger_retired_days r JOIN rollup_days d ON d.day = r.day WHERE r.day = $1::date
  UNION ALL
  SELECT 0, 0, 0 FROM ledger_retired_days r
  WHERE r.day = $1::date AND NOT EXISTS (SELECT 1 FROM rollup_days d WHERE d.day = r.day)
)sql";

inline constexpr char kDeleteRollupDaily[] = "DELETE FROM rollup_daily WHERE day = $1::date";
inline constexpr char kDeleteRollupToolOwner[] =
    "DELETE FROM rollup_tool_owner_daily WHERE day = $1::date";
inline constexpr char kDeleteRollupQuarantine[] =
    "DELETE FROM rollup_quarantine_daily WHERE day = $1::date";

// $4: when the day was first rolled up (NULL on the first roll): entries that entered the
// ledger after it are corrections. Every amount comes from the view ledger_entries
// (migration 0014): steps, and the reprice corrections of the day's steps.
inline constexpr char kInsertRollupDaily[] = R"sql(
  INSERT INTO rollup_daily (day, charge_class, charged_feature, charged_team, charged_tenant,
    charged_workload_class, environment, kind, provider, model, attribution_status,
    attribution_reason, steps, unpriced_steps, cost_nano_usd, runs, input_uncached_tokens,
    cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, retry_steps,
    retry_cost_nano_usd, drift_steps)
  SELECT $1::date,
         CASE WHEN e.entered_at > $4::timestamptz THEN 'Correction' ELSE '' END,
         e.charged_feature, e.charged_team, e.charged_tenant, e.charged_workload_class,
         e.environment, e.kind, e.provider, e.model, e.attribution_status, e.attribution_reason,
         sum(e.steps), count(*) FILTER (WHERE e.unpriced_reason <> ''),
         sum(e.cost_nano_usd), count(DISTINCT e.parent_run_id),
         sum(e.input_uncached_tokens), sum(e.cache_read_tokens), sum(e.cache_write_tokens),
         sum(e.output_tokens), sum(e.reasoning_tokens),
         coalesce(sum(e.steps) FILTER (WHERE e.attempt > 1), 0),
         coalesce(sum(e.cost_nano_usd) FILTER (WHERE e.attempt > 1), 0),
         coalesce(sum(e.steps) FILTER (WHERE e.tag_drift), 0)
  FROM ledger_entries e
  WHERE e.occurred_at >= $2::timestamptz AND e.occurred_at < $3::timestamptz
    AND e.entry <> 'quarantine'
  GROUP BY 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
)sql";

// Work a team's tools did for another team.
inline constexpr char kInsertRollupToolOwner[] = R"sql(
  INSERT INTO rollup_tool_owner_daily (day, charge_class, tool_owner_team, charged_team,
    charged_feature, environment, steps, cost_nano_usd)
  SELECT $1::date,
         CASE WHEN e.entered_at > $4::timestamptz THEN 'Correction' ELSE '' END,
         e.tool_owner_team, e.charged_team, e.charged_feature, e.environment,
         sum(e.steps), sum(e.cost_nano_usd)
  FROM ledger_entries e
  WHERE e.occurred_at >= $2::timestamptz AND e.occurred_at < $3::timestamptz
    AND e.entry <> 'quarantine'
    AND e.tool_owner_team <> '' AND e.tool_owner_team <> e.charged_team
  GROUP BY 2, 3, 4, 5, 6
)sql";

// The FOCUS line items of the day (ledger and quarantine), see migration 0014. An entry is
// after_close when the provider's invoice for its month was imported before it entered.
inline constexpr char kInsertRollupFocus[] = R"sql(
  INSERT INTO rollup_focus_daily (day, source, late, after_close, billing_month, parent_run_id,
    charged_feature, charged_team, charged_tenant, charged_workload_class, environment, kind,
    provider, model, tool_name, attribution_status, attribution_reason, unpriced_reason, steps,
    cost_nano_usd, tokens, tool_units)
  SELECT $1::date, x.source, x.late, x.after_close,
         CASE WHEN x.after_close
              THEN greatest(date_trunc('month', x.entered_at AT TIME ZONE 'UTC'),
                            date_trunc('month', $1::date) + interval '1 month')::date
              ELSE date_trunc('month', $1::date)::date END,
         x.parent_run_id, x.charged_feature, x.charged_team, x.charged_tenant,
         x.charged_workload_class, x.environment, x.kind, x.provider, x.model, x.tool_name,
         x.attribution_status, x.attribution_reason, x.unpriced_reason, sum(x.steps),
         sum(x.cost_nano_usd), sum(x.tokens), sum(x.tool_units)
  FROM (
    SELECT CASE WHEN e.entry = 'quarantine' THEN 'quarantine' ELSE 'ledger' END AS source,
           coalesce(e.entered_at > $4::timestamptz, false) AS late,
           coalesce(e.entered_at > (SELECT i.imported_at FROM invoices i
                                    WHERE i.provider = e.provider
                                      AND i.period = date_trunc('month', $1::date)::date),
                    false) AS after_close,
           e.*,
           e.input_uncached_tokens + e.cache_read_tokens + e.cache_write_tokens +
             e.output_tokens + e.reasoning_tokens AS tokens
    FROM ledger_entries e
    WHERE e.occurred_at >= $2::timestamptz AND e.occurred_at < $3::timestamptz) x
  GROUP BY x.source, x.late, x.after_close, 5, x.parent_run_id, x.charged_feature,
           x.charged_team, x.charged_tenant, x.charged_workload_class, x.environment, x.kind,
           x.provider, x.model, x.tool_name, x.attribution_status, x.attribution_reason,
           x.unpriced_reason
)sql";

inline constexpr char kDeleteRollupFocus[] = "DELETE FROM rollup_focus_daily WHERE day = $1::date";

inline constexpr char kInsertRollupQuarantine[] = R"sql(
  INSERT INTO rollup_quarantine_daily (day, charge_class, reason, environment, events,
    unpriced_events, cost_nano_usd)
  SELECT $1::date,
         CASE WHEN q.received_at > $4::timestamptz THEN 'Correction' ELSE '' END,
         q.reason, q.environment, count(*), count(*) FILTER (WHERE q.cost_nano_usd IS NULL),
         coalesce(sum(q.cost_nano_usd), 0)
  FROM quarantine q
  WHERE q.occurred_at >= $2::timestamptz AND q.occurred_at < $3::timestamptz
  GROUP BY 2, 3, 4
)sql";

// Totals of what was just inserted, for rollup_days and the caller.
inline constexpr char kRollupDayTotals[] = R"sql(
  SELECT coalesce(sum(steps), 0)::bigint, coalesce(sum(cost_nano_usd), 0)::bigint,
         coalesce(sum(cost_nano_usd) FILTER (WHERE charge_class = 'Correction'), 0)::bigint
  FROM rollup_daily WHERE day = $1::date
)sql";

inline constexpr char kUpsertRollupDay[] = R"sql(
  INSERT INTO rollup_days (day, first_rolled_at, rolled_at, roll_count, source_rows,
    total_cost_nano_usd, correction_cost_nano_usd)
  VALUES ($1::date, now(), now(), 1, $2, $3, $4)
  ON CONFLICT (day) DO UPDATE SET rolled_at = now(), roll_count = rollup_days.roll_count + 1,
    source_rows = EXCLUDED.source_rows, total_cost_nano_usd = EXCLUDED.total_cost_nano_usd,
    correction_cost_nano_usd = EXCLUDED.correction_cost_nano_usd
)sql";

// ---- showback inputs. $1, $2: first and last day (date, inclusive); $3: environment or ''.

inline constexpr char kSelectRollupRows[] = R"sql(
  SELECT day::text, charge_class, charged_feature, charged_team, charged_tenant,
         charged_workload_class, environment, kind, provider, model, attribution_status,
         attribution_reason, steps, unpriced_steps, cost_nano_usd, runs, input_uncached_tokens,
         cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, retry_steps,
         retry_cost_nano_usd, drift_steps
  FROM rollup_daily
  WHERE day BETWEEN $1::date AND $2::date AND ($3 = '' OR environment = $3)
  ORDER BY day, charge_class, charged_team, charged_feature, charged_tenant, kind, model
)sql";

inline constexpr char kSelectToolOwnerRows[] = R"sql(
  SELECT day::text, charge_class, tool_owner_team, charged_team, charged_feature, environment,
         steps, cost_nano_usd
  FROM rollup_tool_owner_daily
  WHERE day BETWEEN $1::date AND $2::date AND ($3 = '' OR environment = $3)
)sql";

inline constexpr char kSelectQuarantineRows[] = R"sql(
  SELECT day::text, charge_class, reason, environment, events, unpriced_events, cost_nano_usd
  FROM rollup_quarantine_daily
  WHERE day BETWEEN $1::date AND $2::date AND ($3 = '' OR environment = $3)
)sql";

inline constexpr char kSelectFocusRows[] = R"sql(
  SELECT day::text, source, late, after_close, billing_month::text, parent_run_id,
         charged_feature, charged_team, charged_tenant, charged_workload_class, environment,
         kind, provider, model, tool_name, attribution_status, attribution_reason,
         unpriced_reason, steps, cost_nano_usd, tokens, tool_units
  FROM rollup_focus_daily
  WHERE day BETWEEN $1::date AND $2::date AND ($3 = '' OR environment = $3)
  ORDER BY day, late, after_close, charged_team, charged_feature, parent_run_id, kind, model
)sql";

inline constexpr char kSelectLastRolledDay[] =
    "SELECT max(day)::text FROM rollup_days WHERE day BETWEEN $1::date AND $2::date";

// The days of [$1, min($2, today UTC)] that have never been rolled up, oldest first.
inline constexpr char kSelectMissingDays[] = R"sql(
  SELECT d::date::text
  FROM generate_series($1::date, LEAST($2::date, (now() AT TIME ZONE 'UTC')::date),
                       interval '1 day') AS d
  WHERE NOT EXISTS (SELECT 1 FROM rollup_days r WHERE r.day = d::date)
  ORDER BY 1
)sql";

// Cost per run, for runs first seen in the period ($4, $5: timestamptz bounds), by the team
// and feature that pay for them (open runs, whose root has not arrived, are left out).
inline constexpr char kSelectRunStats[] = R"sql(
  SELECT 'team', charged_team, count(*),
         percentile_disc(0.5) WITHIN GROUP (ORDER BY total_cost_nano_usd),
         percentile_disc(0.95) WITHIN GROUP (ORDER BY total_cost_nano_usd)
  FROM runs
  WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz
    AND charged_team IS NOT NULL AND ($3 = '' OR environment = $3)
  GROUP BY charged_team
  UNION ALL
  SELECT 'feature', charged_feature, count(*),
         percentile_disc(0.5) WITHIN GROUP (ORDER BY total_cost_nano_usd),
         percentile_disc(0.95) WITHIN GROUP (ORDER BY total_cost_nano_usd)
  FROM runs
  WHERE first_seen >= $1::timestamptz AND first_seen < $2::timestamptz
    AND charged_feature IS NOT NULL AND ($3 = '' OR environment = $3)
  GROUP BY charged_feature
)sql";

inline constexpr char kBudgetsTableExists[] = "SELECT to_regclass('budgets') IS NOT NULL";

// Active (non-shadow) caps; across environments when $1 is ''.
inline constexpr char kSelectBudgets[] = R"sql(
  SELECT scope, key, period, limit_nano_usd FROM budgets
  WHERE NOT shadow AND ($1 = '' OR environment = $1)
)sql";

inline constexpr char kSelectInvoices[] = R"sql(
  SELECT provider, period::text, amount_nano_usd FROM invoices
  WHERE period BETWEEN date_trunc('month', $1::date)::date AND $2::date
  ORDER BY provider, period
)sql";

inline constexpr char kUpsertInvoice[] = R"sql(
  INSERT INTO invoices (provider, period, amount_nano_usd, source)
  VALUES ($1, $2::date, $3, $4)
  ON CONFLICT (provider, period) DO UPDATE SET amount_nano_usd = EXCLUDED.amount_nano_usd,
    source = EXCLUDED.source, imported_at = now()
)sql";

}  // namespace stepledger::storage::queries

#endif  // STEPLEDGER_SERVER_STORAGE_ROLLUP_QUERIES_H_
