-- 0001: the steps ledger, its idempotency index and the quarantine.
--
-- Money is bigint nano-USD (1e-9 USD). Times are timestamptz (UTC on the wire).

-- Idempotency across partitions.
-- PostgreSQL only enforces a unique index on a partitioned table when the index includes the
-- partition key, so UNIQUE (event_id) cannot live on `steps` itself: (event_id, occurred_at)
-- would let the same event_id land twice if it were re-sent with another started_at. Instead
-- every event_id is first claimed in `event_keys`, a plain table whose primary key is event_id
-- alone; the write path inserts into it with ON CONFLICT DO NOTHING and only the ids it
-- actually claimed go on into `steps`, in the same transaction. The digest kept here tells a
-- harmless re-send (same digest) from a conflict (same id, other content).
-- On Citus, event_keys would be distributed by event_id (its only unique key) and steps by
-- parent_run_id; retention deletes event_keys rows older than the oldest kept partition.
CREATE TABLE event_keys (
  event_id     text        PRIMARY KEY,
  digest       bytea       NOT NULL,
  occurred_at  timestamptz NOT NULL,
  received_at  timestamptz NOT NULL
);
CREATE INDEX event_keys_occurred_at ON event_keys (occurred_at);

-- The ledger: one row per accepted step, partitioned by day of occurred_at (started_at, or the
-- receive time when the client did not say). Partitions are created by the collector ahead of
-- need (yesterday..+3 days at start and daily) and on demand for late events.
CREATE TABLE steps (
  event_id               text        NOT NULL,
  occurred_at            timestamptz NOT NULL,
  received_at            timestamptz NOT NULL,
  digest                 bytea       NOT NULL,
  -- The six tags as carried by the event (after defaulting outside production).
  feature                text        NOT NULL,
  team                   text        NOT NULL,
  workload_class         text        NOT NULL,
  tenant                 text        NOT NULL,
  environment            text        NOT NULL,
  parent_run_id          text        NOT NULL,
  -- Who pays: equal to the own tags unless inherited from, or overridden by, the run's root.
  charged_feature        text        NOT NULL,
  charged_team           text        NOT NULL,
  charged_workload_class text        NOT NULL,
  charged_tenant         text        NOT NULL,
  attribution_status     text        NOT NULL
    CHECK (attribution_status IN ('complete', 'inherited', 'pending', 'defaulted')),
  step_id                text        NOT NULL,
  parent_step_id         text        NOT NULL DEFAULT '',
  kind                   text        NOT NULL,
  name                   text        NOT NULL DEFAULT '',
  provider               text        NOT NULL DEFAULT '',
  model                  text        NOT NULL DEFAULT '',
  -- Disjoint usage buckets; NULL means unknown, never zero.
  input_uncached_tokens  bigint,
  cache_read_tokens      bigint,
  cache_write_tokens     bigint,
  output_tokens          bigint,
  reasoning_tokens       bigint,
  -- Cost: reported by the gateway (wins), computed from the price catalog, or unpriced (NULL).
  reported_cost_nano_usd bigint,
  cost_nano_usd          bigint,
  cost_source            text        NOT NULL CHECK (cost_source IN ('reported', 'computed', 'unpriced')),
  price_version          text,
  tool_name              text        NOT NULL DEFAULT '',
  tool_owner_team        text        NOT NULL DEFAULT '',
  status                 text        NOT NULL DEFAULT '',
  operation_id           text        NOT NULL DEFAULT '',
  attempt                integer     NOT NULL DEFAULT 1,
  started_at             timestamptz,
  ended_at               timestamptz,
  attributes             jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX steps_run ON steps (parent_run_id, step_id);
CREATE INDEX steps_charged ON steps (occurred_at, charged_team, charged_feature);

-- Rejected events, kept with their reason: nothing is dropped. A re-sent rejected event is
-- stored once (unique digest), so unattributed spend is not double counted.
CREATE TABLE quarantine (
  id             bigserial   PRIMARY KEY,
  event_id       text        NOT NULL,
  digest         bytea       NOT NULL UNIQUE,
  received_at    timestamptz NOT NULL,
  occurred_at    timestamptz NOT NULL,
  field          text        NOT NULL,
  reason         text        NOT NULL,
  environment    text        NOT NULL,
  parent_run_id  text        NOT NULL DEFAULT '',
  -- The gateway-reported cost, counted as unattributed spend (NULL: not reported).
  cost_nano_usd  bigint,
  event          jsonb       NOT NULL
);
CREATE INDEX quarantine_received_at ON quarantine (received_at);
CREATE INDEX quarantine_event_id ON quarantine (event_id);
