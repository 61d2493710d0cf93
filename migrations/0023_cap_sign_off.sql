-- 0023: a cap's sign-off is a second credential's approval (docs/BUDGETS.md, "Sign-off").
--
-- budgets.revision is bumped by every change that takes effect; budgets.changed_by is the
-- credential identity that made the revision in force (it may not sign it off);
-- budgets.signed_off_by is the identity of the second credential that approved it, or empty
-- while it awaits sign-off. A change that loosens an enforced cap is stored as a proposal and
-- takes effect only when a second credential approves it.

ALTER TABLE budgets
  ADD COLUMN revision   bigint NOT NULL DEFAULT 1,
  ADD COLUMN changed_by text   NOT NULL DEFAULT '';

-- Until now signed_off_by was whatever the caller typed: not an approval. Each cap keeps its
-- settings and is enforced as before, awaiting a real sign-off; what was typed stays in the
-- audit trail (the row below names it).
INSERT INTO budget_audit (cap_id, action, changed_by, before, after)
SELECT id, 'update',
       'migration 0023 (unverified typed sign-off "' || signed_off_by || '" cleared)',
       to_jsonb(b) - 'created_at' - 'updated_at',
       (to_jsonb(b) - 'created_at' - 'updated_at') || '{"signed_off_by": ""}'::jsonb
FROM budgets b WHERE signed_off_by <> '';
UPDATE budgets SET signed_off_by = '', changed_by = 'migration 0023' WHERE signed_off_by <> '';

-- Audit rows of the flow: 'propose' (a loosening stored, not in force; changed_by the
-- proposer), 'sign_off' (changed_by the revision's author, approved_by the approver); an
-- approved proposal is audited as the change it makes ('update' or 'delete') with both.
ALTER TABLE budget_audit DROP CONSTRAINT budget_audit_action_check;
ALTER TABLE budget_audit ADD CONSTRAINT budget_audit_action_check
  CHECK (action IN ('create', 'update', 'delete', 'propose', 'sign_off'));
ALTER TABLE budget_audit
  ADD COLUMN approved_by text,
  ADD COLUMN proposal_id bigint,
  ADD COLUMN reason      text;

-- Changes that loosen an enforced cap, waiting for a second credential. At most one open per
-- cap: a later change to the cap supersedes it. An open one past expires_at is expired (never
-- applied); rows are kept as the audit trail.
CREATE TABLE budget_proposals (
  id             bigserial   PRIMARY KEY,
  cap_id         text        NOT NULL,
  base_revision  bigint      NOT NULL,
  cap            jsonb,      -- the proposed budgets row; NULL: the proposal deletes the cap
  changes        text        NOT NULL,
  proposed_by    text        NOT NULL,
  proposed_note  text        NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  state          text        NOT NULL DEFAULT 'open'
                             CHECK (state IN ('open', 'approved', 'superseded')),
  decided_by     text,
  decided_at     timestamptz,
  reason         text
);
CREATE UNIQUE INDEX budget_proposals_one_open ON budget_proposals (cap_id) WHERE state = 'open';
