// Named SQL of the cap sign-off flow (migration 0023): revisions, proposals, sign-offs.
#ifndef STEPLEDGER_SERVER_STORAGE_CAP_CHANGE_QUERIES_H_
#define STEPLEDGER_SERVER_STORAGE_CAP_CHANGE_QUERIES_H_

namespace stepledger::storage::queries {

// One cap change at a time per cap id (also for a cap not stored yet, which has no row to
// lock): every transaction of the flow takes this lock first, then the rows. Transaction-scoped,
// so it works behind a transaction-pooling pgbouncer.
inline constexpr char kLockCapChanges[] =
    "SELECT pg_advisory_xact_lock(hashtext('stepledger.cap/' || $1::text))";

// The cap's columns in CapFromRow's order (cap_row.h).
#define STEPLEDGER_CAP_COLUMNS                                                                \
  "id, scope, key, environment, period, limit_nano_usd, action, alert_threshold_bps, owner, " \
  "coalesce(signed_off_by, ''), shadow, coalesce(stale_policy, ''), coalesce(revision, 0), "  \
  "coalesce(changed_by, '')"

inline constexpr char kLoadCapRow[] =
    "SELECT " STEPLEDGER_CAP_COLUMNS
    ", to_jsonb(b) - 'created_at' - 'updated_at' FROM budgets b WHERE id = $1";

inline constexpr char kLockCapRow[] =
    "SELECT " STEPLEDGER_CAP_COLUMNS
    ", to_jsonb(b) - 'created_at' - 'updated_at' FROM budgets b WHERE id = $1 FOR UPDATE";

// Caps in force whose revision awaits sign-off ($1 '': every cap); shadow caps need none.
inline constexpr char kAwaitingSignOff[] =
    "SELECT " STEPLEDGER_CAP_COLUMNS
    " FROM budgets WHERE signed_off_by = '' AND NOT shadow AND ($1 = '' OR id = $1) ORDER BY id";

// A new revision: $1..$12 the cap ($10 its sign-off, '' = awaiting), $13 its author.
inline constexpr char kWriteRevision[] = R"sql(
  INSERT INTO budgets AS b (id, scope, key, environment, period, limit_nano_usd, action,
                            alert_threshold_bps, owner, signed_off_by, shadow, stale_policy,
                            revision, changed_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13)
  ON CONFLICT (id) DO UPDATE SET
    scope = EXCLUDED.scope, key = EXCLUDED.key, environment = EXCLUDED.environment,
    period = EXCLUDED.period, limit_nano_usd = EXCLUDED.limit_nano_usd,
    action = EXCLUDED.action, alert_threshold_bps = EXCLUDED.alert_threshold_bps,
    owner = EXCLUDED.owner, signed_off_by = EXCLUDED.signed_off_by, shadow = EXCLUDED.shadow,
    stale_policy = EXCLUDED.stale_policy, revision = b.revision + 1,
    changed_by = EXCLUDED.changed_by, updated_at = now()
  RETURNING )sql" STEPLEDGER_CAP_COLUMNS R"sql(, to_jsonb(b) - 'created_at' - 'updated_at'
)sql";

inline constexpr char kDeleteCapRow[] = "DELETE FROM budgets WHERE id = $1";

inline constexpr char kSignOffRevision[] =
    "UPDATE budgets b SET signed_off_by = $2, updated_at = now() WHERE id = $1 "
    "RETURNING " STEPLEDGER_CAP_COLUMNS ", to_jsonb(b) - 'created_at' - 'updated_at'";

// $1 cap id, $2 action, $3 changed_by, $4 before, $5 after, $6 approved_by, $7 proposal id,
// $8 reason.
inline constexpr char kAuditCapChange[] = R"sql(
  INSERT INTO budget_audit (cap_id, action, changed_by, before, after, approved_by, proposal_id,
                            reason)
  VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7::bigint, $8)
)sql";

inline constexpr char kSupersedeProposals[] = R"sql(
  UPDATE budget_proposals SET state = 'superseded', decided_at = now()
  WHERE cap_id = $1 AND state = 'open'
)sql";

// $1 cap id, $2 base revision, $3 proposed cap (jsonb, NULL: delete), $4 changes,
// $5 proposer identity, $6 note, $7 expiry.
inline constexpr char kInsertProposal[] = R"sql(
  INSERT INTO budget_proposals (cap_id, base_revision, cap, changes, proposed_by, proposed_note,
                                expires_at)
  VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7::timestamptz)
  RETURNING id, extract(epoch FROM created_at)::float8
)sql";

// A proposal with its cap decoded into CapFromRow's columns (offset 10; NULL for a delete).
#define STEPLEDGER_PROPOSAL_SELECT                                                            \
  "SELECT p.id, p.cap_id, p.base_revision, p.changes, p.proposed_by, p.proposed_note, "       \
  "extract(epoch FROM p.created_at)::float8, extract(epoch FROM p.expires_at)::float8, "      \
  "p.state, p.cap IS NULL, c.id, c.scope, c.key, c.environment, c.period, c.limit_nano_usd, " \
  "c.action, c.alert_threshold_bps, c.owner, coalesce(c.signed_off_by, ''), c.shadow, "       \
  "coalesce(c.stale_policy, ''), coalesce(c.revision, 0), coalesce(c.changed_by, '') "        \
  "FROM budget_proposals p LEFT JOIN LATERAL jsonb_populate_record(NULL::budgets, p.cap) c "  \
  "ON p.cap IS NOT NULL "

inline constexpr char kLoadProposal[] = STEPLEDGER_PROPOSAL_SELECT "WHERE p.id = $1";
inline constexpr char kLockProposal[] =
    STEPLEDGER_PROPOSAL_SELECT "WHERE p.id = $1 FOR UPDATE OF p";
inline constexpr char kOpenProposals[] = STEPLEDGER_PROPOSAL_SELECT
    "WHERE p.state = 'open' AND p.expires_at > $2::timestamptz AND ($1 = '' OR p.cap_id = $1) "
    "ORDER BY p.id";

inline constexpr char kDecideProposal[] = R"sql(
  UPDATE budget_proposals SET state = 'approved', decided_by = $2, decided_at = now(),
                              reason = $3
  WHERE id = $1
)sql";

#undef STEPLEDGER_PROPOSAL_SELECT
#undef STEPLEDGER_CAP_COLUMNS

}  // namespace stepledger::storage::queries

#endif  // STEPLEDGER_SERVER_STORAGE_CAP_CHANGE_QUERIES_H_
