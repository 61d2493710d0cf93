-- 0003: price catalog versions, why a step is unpriced, and cost corrections from re-pricing.
--
-- Money is bigint nano-USD. A version keeps the catalog TEXT it was loaded from, so every
-- version can be rebuilt exactly later (and a step's cost explained) without the files.

-- One row per catalog load (model map and tool prices together). Versions are append-only in
-- time: a new version never takes effect before the newest stored one (the collector enforces
-- it under an advisory lock), so the version in force at a past instant never changes.
CREATE TABLE price_versions (
  id              text        PRIMARY KEY,
  effective_from  timestamptz NOT NULL UNIQUE,
  loaded_at       timestamptz NOT NULL,
  model_source    text        NOT NULL,             -- path of the LiteLLM JSON as loaded
  tool_source     text        NOT NULL DEFAULT '',  -- path of the tool price file, '' = none
  -- sha256 (hex) over sha256(model_catalog) || sha256(tool_catalog): loading the same files
  -- again while this is the newest version does not create a new one.
  checksum        text        NOT NULL,
  model_catalog   text        NOT NULL,
  tool_catalog    text        NOT NULL DEFAULT '',
  model_count     integer     NOT NULL,
  tool_count      integer     NOT NULL
);
CREATE INDEX price_versions_checksum ON price_versions (checksum);

-- Why a step's cost is unknown ('unknown_model', 'missing_usage', ...: the closed set of
-- docs/PRICING.md), '' when it has one.
ALTER TABLE steps ADD COLUMN unpriced_reason text NOT NULL DEFAULT '';
CREATE INDEX steps_unpriced ON steps (occurred_at) WHERE cost_source = 'unpriced';

-- Re-pricing never edits steps.cost_nano_usd: history is not changed silently. A correction
-- is an explicit entry: a step's effective cost is COALESCE(steps.cost_nano_usd, 0) plus the
-- sum of its corrections' deltas (and it is priced once it has any correction).
-- The unique key makes reprice idempotent: at most one correction per event and price
-- version. It leads with parent_run_id (the distribution column on Citus, as for steps).
CREATE TABLE cost_corrections (
  id                     bigserial   PRIMARY KEY,
  event_id               text        NOT NULL,
  occurred_at            timestamptz NOT NULL,
  parent_run_id          text        NOT NULL,
  environment            text        NOT NULL,
  -- Who pays, as the step was charged when the correction was made.
  charged_feature        text        NOT NULL,
  charged_team           text        NOT NULL,
  charged_workload_class text        NOT NULL,
  charged_tenant         text        NOT NULL,
  old_cost_nano_usd      bigint,               -- effective cost before; NULL = was unpriced
  new_cost_nano_usd      bigint      NOT NULL,
  delta_nano_usd         bigint      NOT NULL, -- new - COALESCE(old, 0)
  price_version          text        NOT NULL REFERENCES price_versions (id),
  reason                 text        NOT NULL, -- 'unpriced:<reason>' or 'mispriced'
  created_at             timestamptz NOT NULL DEFAULT now(),
  UNIQUE (parent_run_id, event_id, price_version)
);
CREATE INDEX cost_corrections_event ON cost_corrections (event_id);
CREATE INDEX cost_corrections_occurred_at ON cost_corrections (occurred_at);
