-- 0015: API keys and certificate identities (docs/SECURITY.md). A key's secret is never
-- stored, only its SHA-256; rows are never deleted (a revoked key stays as the record of who
-- held it). key_audit records every change with the identity that made it, written in the
-- same transaction as the change.
CREATE TABLE api_keys (
  id             text        PRIMARY KEY,
  name           text        NOT NULL,
  secret_sha256  bytea,
  cert_subject   text        UNIQUE,
  roles          text[]      NOT NULL,
  scopes         text[]      NOT NULL,
  created_at     timestamptz NOT NULL,
  created_by     text        NOT NULL,
  expires_at     timestamptz,
  revoked_at     timestamptz,
  revoked_by     text,
  replaces       text        REFERENCES api_keys (id),
  note           text        NOT NULL DEFAULT '',
  CHECK ((secret_sha256 IS NULL) <> (cert_subject IS NULL)),
  CHECK (secret_sha256 IS NULL OR octet_length(secret_sha256) = 32)
);

CREATE TABLE key_audit (
  id          bigserial   PRIMARY KEY,
  key_id      text        NOT NULL REFERENCES api_keys (id),
  action      text        NOT NULL CHECK (action IN ('create', 'rotate', 'revoke', 'bootstrap')),
  actor       text        NOT NULL,
  note        text        NOT NULL DEFAULT '',
  changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX key_audit_key ON key_audit (key_id, changed_at);
