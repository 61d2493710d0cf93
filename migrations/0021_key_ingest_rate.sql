-- 0021: a key's own ingest rate (docs/SECURITY.md, "Ingest rate limit"): events per second
-- this credential may ingest, instead of --ingest-rate-limit. NULL: the flag's rate. Set when
-- the key is created (stepledger keys create --ingest-rate N); a rotation keeps it.
ALTER TABLE api_keys ADD COLUMN ingest_rate integer CHECK (ingest_rate >= 1);
