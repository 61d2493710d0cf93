"""The end of every scenario: the ledger compared with the journal (journal.Oracle).

Figures, each of which must be 0 for a scenario to pass:
  acked_missing        ids in an acked batch that are not in `steps`
  phantom              ids in `steps` that were never sent, or stored with a digest no sent
                       version has
  duplicate_effect     extra `steps` rows per id, `event_keys` rows without their step,
                       acks that claimed more stored events than the ledger holds, and `runs`
                       rows whose counts or totals disagree with their steps
  cost_difference      ids whose stored cost is not the cost of the stored version as sent
  counters_minus_ledger  sum of |spend_counters - ledger| over every (scope, key, environment,
                       period, period start), the rows the budget engine is rebuilt from
  engine_minus_ledger  |CheckBudget's spent for the org's daily cap - today's ledger sum|: the
                       engine's memory, after whatever the scenario did to the process
  never_acked          batches still unacked after the drain (the system never recovered)
  pending_left         steps still waiting for a root that was sent
"""
import time

import grpc

import cluster
import collector_harness as harness

# Every charged key's ledger sum, as the write path counts it (server/storage/ledger_queries.h).
COUNTERS_MINUS_LEDGER = """
WITH l AS (
  SELECT x.scope, x.key, s.environment, p.period, p.start AS period_start,
         sum(s.cost_nano_usd) AS spent
  FROM steps s
  CROSS JOIN LATERAL (VALUES ('feature', s.charged_feature), ('team', s.charged_team),
                             ('tenant', s.charged_tenant), ('org', '*')) AS x(scope, key)
  CROSS JOIN LATERAL (VALUES ('daily', date_trunc('day', s.occurred_at, 'UTC')),
                             ('monthly', date_trunc('month', s.occurred_at, 'UTC')))
                     AS p(period, start)
  WHERE s.cost_nano_usd IS NOT NULL AND x.key <> ''
  GROUP BY 1, 2, 3, 4, 5
), c AS (
  SELECT scope, key, environment, period, period_start, sum(spent_nano_usd) AS spent
  FROM spend_counters GROUP BY 1, 2, 3, 4, 5
)
SELECT count(*) || '|' || coalesce(sum(abs(coalesce(l.spent, 0) - coalesce(c.spent, 0))), 0)
FROM l FULL JOIN c USING (scope, key, environment, period, period_start)
WHERE coalesce(l.spent, 0) <> coalesce(c.spent, 0)
"""

RUNS_DISAGREEING = """
SELECT count(*) FROM runs r
FULL JOIN (SELECT parent_run_id, count(*) AS n, coalesce(sum(cost_nano_usd), 0) AS total
           FROM steps GROUP BY 1) s USING (parent_run_id)
WHERE r.step_count IS DISTINCT FROM s.n OR r.total_cost_nano_usd IS DISTINCT FROM s.total
"""

ORG_TODAY = """
SELECT coalesce(sum(cost_nano_usd), 0) FROM steps
WHERE environment = 'production'
  AND date_trunc('day', occurred_at, 'UTC') = date_trunc('day', now(), 'UTC')
"""


def put_org_cap(pb_budget, target):
    """A daily org cap far above anything sent, so that CheckBudget reports the engine's
    counter for the whole ledger of the day."""
    cap = pb_budget.Cap(id="faults-org-daily", scope=pb_budget.SCOPE_ORG, key="*",
                        period=pb_budget.PERIOD_DAILY, limit_nano_usd=10**15,
                        action=pb_budget.CAP_ACTION_ALERT, owner="faults",
                        signed_off_by="faults")
    with harness.channel(target) as ch:
        call = ch.unary_unary("/stepledger.v1.Budget/PutBudget",
                              request_serializer=pb_budget.PutBudgetRequest.SerializeToString,
                              response_deserializer=pb_budget.Cap.FromString)
        call(pb_budget.PutBudgetRequest(cap=cap, changed_by="faults"), timeout=30)


def engine_org_spent(pb, pb_budget, target):
    req = pb_budget.CheckBudgetRequest(estimated_cost_nano_usd=0)
    req.tags.feature, req.tags.team, req.tags.tenant = "inbox-triage", "mail-ai", "t0"
    req.tags.workload_class = pb.WORKLOAD_CLASS_INTERACTIVE
    req.tags.environment = pb.ENVIRONMENT_PRODUCTION
    req.tags.parent_run_id = "faults-check"
    with harness.channel(target) as ch:
        call = ch.unary_unary(
            "/stepledger.v1.Budget/CheckBudget",
            request_serializer=pb_budget.CheckBudgetRequest.SerializeToString,
            response_deserializer=pb_budget.CheckBudgetResponse.FromString)
        resp = call(req, timeout=30)
    for c in resp.caps:
        if c.cap_id == "faults-org-daily":
            return c.spent_nano_usd
    raise RuntimeError("CheckBudget did not report the org cap")


def compare(db_url, oracle, pb=None, pb_budget=None, target=None):
    """Returns (figures, problems): figures is a dict of counts, problems a list of strings
    naming every nonzero must-be-zero figure with examples."""
    rows = cluster.query(db_url, "SELECT event_id || '|' || encode(digest, 'hex') || '|' || "
                         "coalesce(cost_nano_usd::text, '') || '|' || attribution_status "
                         "FROM steps")
    stored = {}
    extra_rows = 0
    pending = 0
    for line in rows.splitlines() if rows else []:
        event_id, digest, cost, status = line.split("|")
        if event_id in stored:
            extra_rows += 1
        stored[event_id] = (digest, int(cost) if cost else None)
        pending += status == "pending"

    acked_missing = sorted(i for i in oracle.acked_ids if i not in stored)
    phantom = sorted(i for i, (d, _) in stored.items()
                     if i not in oracle.versions or d not in oracle.versions[i])
    cost_diff = sorted(i for i, (d, c) in stored.items()
                       if i in oracle.versions and d in oracle.versions[i]
                       and oracle.versions[i][d] != c)
    keys_without_step = int(cluster.query(
        db_url, "SELECT count(*) FROM event_keys k WHERE NOT EXISTS "
        "(SELECT 1 FROM steps s WHERE s.event_id = k.event_id)"))
    runs_disagreeing = int(cluster.query(db_url, RUNS_DISAGREEING))
    ack_excess = max(0, oracle.ack_accepted - len(stored))
    n_counters, counters_diff = map(int, cluster.query(db_url, COUNTERS_MINUS_LEDGER).split("|"))

    figures = {
        "events_sent": len(oracle.versions), "batches": len(oracle.batches),
        "events_stored": len(stored), "acked_missing": len(acked_missing),
        "phantom": len(phantom),
        "duplicate_effect": extra_rows + keys_without_step + ack_excess + runs_disagreeing,
        "cost_difference": len(cost_diff), "counters_minus_ledger": counters_diff,
        "never_acked": oracle.unacked_batches, "pending_left": pending,
        "ack_duplicates": oracle.ack_duplicates, "conflicts_reported": oracle.conflicts_reported,
    }
    problems = []
    if acked_missing:
        problems.append(f"acked but missing: {acked_missing[:5]}")
    if phantom:
        problems.append(f"phantom: {phantom[:5]}")
    if extra_rows or keys_without_step or ack_excess or runs_disagreeing:
        problems.append(f"duplicate effect: {extra_rows} extra step rows, {keys_without_step} "
                        f"event_keys without a step, acks claimed {ack_excess} more accepted "
                        f"events than stored, {runs_disagreeing} runs rows disagree")
    if cost_diff:
        problems.append(f"cost difference: {cost_diff[:5]}")
    if counters_diff:
        problems.append(f"spend counters minus ledger: {counters_diff} nano-USD over "
                        f"{n_counters} counters")
    if oracle.unacked_batches:
        problems.append(f"{oracle.unacked_batches} batches never acked")
    if pending:
        problems.append(f"{pending} steps still pending although their roots were sent")
    if oracle.other_rejections:
        problems.append(f"unexpected rejections: {oracle.other_rejections[:3]}")
    if target is not None:
        ledger_today = int(cluster.query(db_url, ORG_TODAY))
        # The engine sees its own commits at once and others' within the refresh interval.
        deadline = time.monotonic() + 10
        while True:
            engine = engine_org_spent(pb, pb_budget, target)
            if engine == ledger_today or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        figures["engine_minus_ledger"] = abs(engine - ledger_today)
        if engine != ledger_today:
            problems.append(f"CheckBudget org spent {engine} != ledger {ledger_today}")
    return figures, problems
