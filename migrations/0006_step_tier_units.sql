-- 0006: two StepEvent fields that pricing needs and the ledger keeps like every other field:
-- the provider's service tier the call used, and the units a per-unit priced tool consumed.
ALTER TABLE steps ADD COLUMN service_tier text NOT NULL DEFAULT '';
ALTER TABLE steps ADD COLUMN tool_units bigint;  -- NULL: unknown (not zero)
