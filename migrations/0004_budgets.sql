-- 0004: budget caps as data (audited), acknowledgements (kept forever), and the shared spend
-- counters that let several collector replicas agree on spend.

CREATE TABLE budgets (
  id                   text        PRIMARY KEY,
  scope                text        NOT NULL CHECK (scope IN ('feature', 'team', 'tenant', 'org')),
  key                  text        NOT NULL,
  environment          text        NOT NULL,
  period               text        NOT NULL CHECK (period IN ('daily', 'monthly')),
  limit_nano_usd       bigint      NOT NULL CHECK (limit_nano_usd >= 0),
  action               text        NOT NULL CHECK (action IN ('alert', 'require_ack')),
  alert_threshold_bps  integer     NOT NULL,
  owner                text        NOT NULL,
  signed_off_by        text        NOT NULL DEFAULT '',
  shadow               boolean     NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Every change to a cap: who, when, the cap before and after (NULL when created / deleted).
CREATE TABLE budget_audit (
  id          bigserial   PRIMARY KEY,
  cap_id      text        NOT NULL,
  action      text        NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  changed_by  text        NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  before      jsonb,
  after       jsonb
);
CREATE INDEX budget_audit_cap ON budget_audit (cap_id, changed_at);

-- Acknowledgements are an audit trail: never deleted, also when their cap is.
CREATE TABLE acknowledgements (
  id                       text        PRIMARY KEY,
  cap_id                   text        NOT NULL,
  principal                text        NOT NULL,
  reason                   text        NOT NULL,
  extra_headroom_nano_usd  bigint      NOT NULL,
  created_at               timestamptz NOT NULL,
  expires_at               timestamptz NOT NULL
);
CREATE INDEX acknowledgements_cap ON acknowledgements (cap_id, expires_at);

-- Committed spend per counter, one row per writer (owner = "<replica instance>/w<n>") so that
-- writers and replicas never contend on a hot row such as the org counter. The write path adds
-- its group's deltas here in the same transaction as the steps; each replica sums the rows of
-- the other owners every refresh interval. A period rolling over is a new row, never an
-- overwrite.
CREATE TABLE spend_counters (
  owner         text        NOT NULL,
  scope         text        NOT NULL,
  key           text        NOT NULL,
  environment   text        NOT NULL,
  period        text        NOT NULL,
  period_start  timestamptz NOT NULL,
  spent_nano_usd bigint     NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, scope, key, environment, period, period_start)
);
CREATE INDEX spend_counters_period ON spend_counters (period_start);
