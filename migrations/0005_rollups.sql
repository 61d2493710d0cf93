-- 0005: daily rollups of the ledger (what showback/chargeback reports read), the record of
-- which days were rolled up (so a step arriving later is reported as a correction, never as a
-- silent change), and imported provider invoices for reconciliation.
--
-- A day (UTC, by occurred_at) is rolled up by deleting its rows and inserting them again from
-- the ledger in one transaction, so re-running a day is idempotent and late events are taken
-- in by re-running recent days. Rows of steps received after the day was first rolled up
-- carry charge_class 'Correction' (FOCUS ChargeClass); all other rows carry ''.

-- Who paid for what, per day: one row per combination of the charged tags, kind, provider,
-- model and attribution status. Money is bigint nano-USD; cost sums priced steps only
-- (unpriced_steps says how many were left out).
CREATE TABLE rollup_daily (
  day                    date    NOT NULL,
  charge_class           text    NOT NULL CHECK (charge_class IN ('', 'Correction')),
  charged_feature        text    NOT NULL,
  charged_team           text    NOT NULL,
  charged_tenant         text    NOT NULL,
  charged_workload_class text    NOT NULL,
  environment            text    NOT NULL,
  kind                   text    NOT NULL,
  provider               text    NOT NULL,
  model                  text    NOT NULL,
  attribution_status     text    NOT NULL,
  attribution_reason     text    NOT NULL,
  steps                  bigint  NOT NULL,
  unpriced_steps         bigint  NOT NULL,
  cost_nano_usd          bigint  NOT NULL,
  runs                   bigint  NOT NULL,   -- distinct runs within this row only
  input_uncached_tokens  bigint  NOT NULL,
  cache_read_tokens      bigint  NOT NULL,
  cache_write_tokens     bigint  NOT NULL,
  output_tokens          bigint  NOT NULL,
  reasoning_tokens       bigint  NOT NULL,
  retry_steps            bigint  NOT NULL,   -- attempt > 1
  retry_cost_nano_usd    bigint  NOT NULL,
  drift_steps            bigint  NOT NULL,
  PRIMARY KEY (day, charge_class, charged_feature, charged_team, charged_tenant,
               charged_workload_class, environment, kind, provider, model, attribution_status,
               attribution_reason)
);

-- Chargeback lines: steps whose tool belongs to a team other than the one charged, i.e. work
-- a tool owner performed for others.
CREATE TABLE rollup_tool_owner_daily (
  day              date    NOT NULL,
  charge_class     text    NOT NULL CHECK (charge_class IN ('', 'Correction')),
  tool_owner_team  text    NOT NULL,
  charged_team     text    NOT NULL,
  charged_feature  text    NOT NULL,
  environment      text    NOT NULL,
  steps            bigint  NOT NULL,
  cost_nano_usd    bigint  NOT NULL,
  PRIMARY KEY (day, charge_class, tool_owner_team, charged_team, charged_feature, environment)
);

-- Rejected events by day of occurred_at: their gateway-reported cost is unattributed spend.
CREATE TABLE rollup_quarantine_daily (
  day             date    NOT NULL,
  charge_class    text    NOT NULL CHECK (charge_class IN ('', 'Correction')),
  reason          text    NOT NULL,
  environment     text    NOT NULL,
  events          bigint  NOT NULL,
  unpriced_events bigint  NOT NULL,
  cost_nano_usd   bigint  NOT NULL,
  PRIMARY KEY (day, charge_class, reason, environment)
);

-- What was rolled up and when. first_rolled_at never moves: steps received after it are
-- corrections to what was already reported.
CREATE TABLE rollup_days (
  day                     date        PRIMARY KEY,
  first_rolled_at         timestamptz NOT NULL,
  rolled_at               timestamptz NOT NULL,
  roll_count              integer     NOT NULL,
  source_rows             bigint      NOT NULL,   -- ledger steps of the day
  total_cost_nano_usd     bigint      NOT NULL,
  correction_cost_nano_usd bigint     NOT NULL
);

-- Provider invoices (one total per provider and month), for attributed-vs-invoiced gaps.
CREATE TABLE invoices (
  provider        text        NOT NULL,
  period          date        NOT NULL CHECK (extract(day FROM period) = 1),  -- first of month
  amount_nano_usd bigint      NOT NULL CHECK (amount_nano_usd >= 0),
  source          text        NOT NULL DEFAULT '',
  imported_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, period)
);
