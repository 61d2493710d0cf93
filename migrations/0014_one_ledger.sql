-- 0014: one ledger for every report, and the line items of the FOCUS export.
--
-- ledger_entries is the one home of "what the ledger holds": every amount any report shows is
-- a sum over it, so the rollups, the showback, CSV, JSON and FOCUS cannot disagree.
--   entry 'step'        a stored step: its own cost (0 when unpriced); unpriced_reason says
--                       why it has no amount, '' once it is priced (by ingest or by a reprice)
--   entry 'reprice'     a correction from re-pricing (cost_corrections): its delta, on the day
--                       and with the dimensions of the step it corrects (steps = 0)
--   entry 'quarantine'  a rejected event: its gateway-reported cost, unattributed; without a
--                       reported cost it is unpriced ('cost_not_reported')
-- entered_at is when the entry reached the ledger (a step's or event's receive time, a
-- correction's creation time): entries entered after their day was first rolled up are late.
-- Filters on occurred_at reach every branch, so the steps' daily partitions are still pruned.
CREATE VIEW ledger_entries AS
  SELECT 'step'::text AS entry, s.occurred_at, s.received_at AS entered_at, s.event_id,
         s.parent_run_id, s.charged_feature, s.charged_team, s.charged_tenant,
         s.charged_workload_class, s.environment, s.kind, s.provider, s.model, s.tool_name,
         s.attribution_status, s.attribution_reason, s.tool_owner_team, s.attempt, s.tag_drift,
         1::bigint AS steps,
         CASE WHEN s.cost_nano_usd IS NULL AND NOT EXISTS (
                SELECT 1 FROM cost_corrections c
                WHERE c.event_id = s.event_id AND c.occurred_at = s.occurred_at)
              THEN coalesce(nullif(s.unpriced_reason, ''), 'unknown') ELSE '' END
           AS unpriced_reason,
         coalesce(s.cost_nano_usd, 0) AS cost_nano_usd,
         coalesce(s.input_uncached_tokens, 0) AS input_uncached_tokens,
         coalesce(s.cache_read_tokens, 0) AS cache_read_tokens,
         coalesce(s.cache_write_tokens, 0) AS cache_write_tokens,
         coalesce(s.output_tokens, 0) AS output_tokens,
         coalesce(s.reasoning_tokens, 0) AS reasoning_tokens,
         coalesce(s.tool_units, 0) AS tool_units
  FROM steps s
  UNION ALL
  SELECT 'reprice', c.occurred_at, c.created_at, c.event_id, s.parent_run_id, s.charged_feature,
         s.charged_team, s.charged_tenant, s.charged_workload_class, s.environment, s.kind,
         s.provider, s.model, s.tool_name, s.attribution_status, s.attribution_reason,
         s.tool_owner_team, s.attempt, s.tag_drift, 0, '', c.delta_nano_usd, 0, 0, 0, 0, 0, 0
  FROM cost_corrections c
  JOIN steps s ON s.event_id = c.event_id AND s.occurred_at = c.occurred_at
  UNION ALL
  SELECT 'quarantine', q.occurred_at, q.received_at, q.event_id, q.parent_run_id, '', '', '', '',
         q.environment,
         coalesce(lower(regexp_replace(q.event ->> 'kind', '^STEP_KIND_', '')), 'other'),
         coalesce(q.event ->> 'provider', ''), coalesce(q.event ->> 'model', ''),
         coalesce(q.event ->> 'toolName', ''), 'quarantined',
         q.reason, '', 1, false, 1,
         CASE WHEN q.cost_nano_usd IS NULL THEN 'cost_not_reported' ELSE '' END,
         coalesce(q.cost_nano_usd, 0), 0, 0, 0, 0, 0, 0
  FROM quarantine q;

-- The FOCUS export's line items: per day, run and the dimensions a FOCUS row shows, filled in
-- the same transaction (same snapshot) as rollup_daily and rollup_quarantine_daily, so the
-- sum of BilledCost equals the report's total to the nano-USD.
--   late          entered after the day was first rolled up (the rollup's 'Correction' class)
--   after_close   entered after the provider's invoice for that month had been imported: a
--                 correction to a closed billing period (FOCUS ChargeClass 'Correction'),
--                 billed in billing_month (the month it entered, at the earliest the month
--                 after the day's); otherwise billing_month is the month of the day
--   source        'ledger' (steps and their reprice corrections: a step priced by a correction
--                 entered with it is one row) or 'quarantine' (rejected events)
-- Unpriced entries (unpriced_reason <> '') are kept apart: they carry no amount and go to the
-- unpriced list, never into the FOCUS file.
CREATE TABLE rollup_focus_daily (
  day                    date    NOT NULL,
  source                 text    NOT NULL CHECK (source IN ('ledger', 'quarantine')),
  late                   boolean NOT NULL,
  after_close            boolean NOT NULL,
  billing_month          date    NOT NULL CHECK (extract(day FROM billing_month) = 1),
  parent_run_id          text    NOT NULL,
  charged_feature        text    NOT NULL,
  charged_team           text    NOT NULL,
  charged_tenant         text    NOT NULL,
  charged_workload_class text    NOT NULL,
  environment            text    NOT NULL,
  kind                   text    NOT NULL,
  provider               text    NOT NULL,
  model                  text    NOT NULL,
  tool_name              text    NOT NULL,
  attribution_status     text    NOT NULL,
  attribution_reason     text    NOT NULL,
  unpriced_reason        text    NOT NULL,
  steps                  bigint  NOT NULL,
  cost_nano_usd          bigint  NOT NULL,
  tokens                 bigint  NOT NULL,   -- all five usage buckets
  tool_units             bigint  NOT NULL,
  PRIMARY KEY (day, source, late, after_close, billing_month, parent_run_id, charged_feature,
               charged_team, charged_tenant, charged_workload_class, environment, kind, provider,
               model, tool_name, attribution_status, attribution_reason, unpriced_reason)
);
