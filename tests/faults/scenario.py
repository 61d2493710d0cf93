"""What every fault scenario shares: a fresh database, a collector, the journaled load, the
drain, and the comparison of the ledger with the journal at the end.

A scenario is a function body(run) that breaks things while run.gen sends load, and returns
a dict of its own figures; it adds to run.problems whatever it saw go wrong on the way.
"""
import json
import os
import time
import uuid

import cluster
import ledger_check
from journal import EventSource, Journal, Oracle
from loadgen import LoadGenerator


class Context:
    """Shared by every scenario of one invocation."""

    def __init__(self, pg, pb, pb_budget, workdir, seed):
        self.pg = pg
        self.pb = pb
        self.pb_budget = pb_budget
        self.workdir = workdir
        self.seed = seed


class Run:
    """One scenario's world. `collector_url` lets a scenario put a proxy in front of the
    database; `pg` lets it use a cluster of its own."""

    def __init__(self, ctx, name, seed, pg=None, via_proxy=None):
        self.ctx = ctx
        self.name = name
        self.seed = seed
        self.pg = pg or ctx.pg
        self.pb = ctx.pb
        self.db_name = f"faults_{name}_{uuid.uuid4().hex[:8]}"
        self.db_url = self.pg.new_database(self.db_name)
        collector_url = self.db_url
        if via_proxy is not None:
            collector_url = self.db_url.replace(f":{self.pg.port}/", f":{via_proxy.port}/")
        self.collector = cluster.Collector(collector_url)
        ledger_check.put_org_cap(ctx.pb_budget, self.collector.target)
        self.journal_path = os.path.join(ctx.workdir, f"{name}.journal.jsonl")
        self.journal = Journal(self.journal_path)
        self.source = EventSource(ctx.pb, seed, lambda rng: f"t{rng.randrange(50)}", name)
        self.gen = LoadGenerator(ctx.pb, self.journal, self.source, lambda: self.collector.target)
        self.problems = []

    def wait_for_acks(self, more=5, seconds=60):
        """Waits until `more` further batches are acked; False if that did not happen."""
        start = self.gen.acks
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.gen.acks >= start + more:
                return True
            time.sleep(0.05)
        return False

    def finish(self):
        drained = self.gen.stop_and_drain()
        self.journal.close()
        if not drained:
            self.problems.append("the load did not drain: some batches were never acked")
        oracle = Oracle(self.journal_path)
        figures, problems = ledger_check.compare(self.db_url, oracle, self.pb,
                                                 self.ctx.pb_budget, self.collector.target)
        figures["stream_failures"] = dict(self.gen.failures)
        self.problems.extend(problems)
        return figures, oracle

    def close(self):
        try:
            self.collector.stop()
        finally:
            try:
                self.pg.drop_database(self.db_name)
            except Exception:  # noqa: BLE001  (a broken cluster is reported by the scenario)
                pass


def run_scenario(ctx, name, cycles, body, seed, **run_args):
    """Runs one scenario and returns its JSON-able result line."""
    started = time.monotonic()
    line = {"scenario": name, "cycles": cycles, "seed": seed}
    run = None
    try:
        run = Run(ctx, name, seed, **run_args)
        run.gen.start()
        if not run.wait_for_acks(more=3):
            run.problems.append("no ack within 60 s before any fault")
        line.update(body(run) or {})
        figures, _ = run.finish()
        line.update(figures)
        problems = run.problems
    except Exception as e:  # noqa: BLE001  (a crash of the scenario is a failure, not an abort)
        problems = (run.problems if run else []) + [f"{type(e).__name__}: {e}"]
    finally:
        if run is not None:
            run.close()
    line["seconds"] = round(time.monotonic() - started, 1)
    line["result"] = "failed" if problems else "passed"
    if problems:
        line["problems"] = problems
    return line


def skipped(name, reason):
    return {"scenario": name, "result": "skipped", "reason": reason}


def emit(line):
    print(json.dumps(line, separators=(", ", ": ")), flush=True)
