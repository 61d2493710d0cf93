"""The oracle must bite: after a clean load, the ledger is damaged by hand, one way at a time,
and each damage must show up in the figure meant to catch it. Without this, a comparison
that always said 0 would pass every scenario.
"""
import time

import cluster
import ledger_check
from journal import Oracle
from scenario import Run

NAME = "oracle_self_test"

# (what is done, the SQL, the figure that must grow). $A, $B, $C, $D: four stored event ids.
DAMAGE = [
    ("a spend counter off by 7 nano-USD",
     "UPDATE spend_counters SET spent_nano_usd = spent_nano_usd + 7 WHERE ctid = "
     "(SELECT ctid FROM spend_counters WHERE scope = 'org' LIMIT 1)", "counters_minus_ledger"),
    ("a stored cost changed",
     "UPDATE steps SET cost_nano_usd = cost_nano_usd + 1 WHERE event_id = '$A'",
     "cost_difference"),
    ("an acked event deleted",
     "DELETE FROM steps WHERE event_id = '$B'; DELETE FROM event_keys WHERE event_id = '$B'",
     "acked_missing"),
    ("a step nobody sent",
     "CREATE TEMP TABLE t AS SELECT * FROM steps WHERE event_id = '$C'; "
     "UPDATE t SET event_id = 'never-sent-1'; INSERT INTO steps SELECT * FROM t",
     "phantom"),
    ("an event stored twice (another day's partition)",
     "CREATE TEMP TABLE t AS SELECT * FROM steps WHERE event_id = '$D'; "
     "UPDATE t SET occurred_at = occurred_at + interval '1 day'; "  # made ahead at start
     "INSERT INTO steps SELECT * FROM t", "duplicate_effect"),
]


def run(ctx, seed):
    started = time.monotonic()
    line = {"scenario": NAME, "seed": seed}
    problems = []
    r = Run(ctx, NAME, seed)
    try:
        r.gen.start()
        r.wait_for_acks(more=10)
        figures, clean = r.finish()[0], list(r.problems)
        if clean:
            problems.append(f"the undamaged ledger did not compare clean: {clean}")
        ids = cluster.query(r.db_url, "SELECT event_id FROM steps WHERE cost_nano_usd IS NOT "
                            "NULL ORDER BY event_id LIMIT 4").split()
        subst = dict(zip(["$A", "$B", "$C", "$D"], ids))
        oracle = Oracle(r.journal_path)
        caught = []
        for what, sql, figure in DAMAGE:
            for k, v in subst.items():
                sql = sql.replace(k, v)
            cluster.query(r.db_url, sql, retries=1)
            before = figures[figure]
            figures, _ = ledger_check.compare(r.db_url, oracle)
            if figures[figure] <= before:
                problems.append(f"{what}: {figure} stayed {figures[figure]}")
            else:
                caught.append(figure)
        line["damage_caught"] = caught
    except Exception as e:  # noqa: BLE001
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        r.close()
    line["seconds"] = round(time.monotonic() - started, 1)
    line["result"] = "failed" if problems else "passed"
    if problems:
        line["problems"] = problems
    return line
