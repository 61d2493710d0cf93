-- 0018: the audit of price and invoice changes (docs/SECURITY.md, "Audit"). Every reprice,
-- invoice import and new price version records the identity of the credential that made it
-- (key:<name>/<id>, cert:<subject>, or collector:<what> for the collector's own catalog
-- loads), written in the same transaction as the change, so that a change without its row (or
-- a row without its change) cannot be committed. What the caller typed (--reason) is only a
-- note beside it. Rows are never deleted or retired.
CREATE TABLE admin_audit (
  id          bigserial   PRIMARY KEY,
  action      text        NOT NULL
                          CHECK (action IN ('reprice', 'import_invoice', 'load_price_catalog')),
  actor       text        NOT NULL CHECK (actor <> ''),
  note        text        NOT NULL DEFAULT '',
  detail      jsonb       NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_audit_changed ON admin_audit (changed_at);
