#!/usr/bin/env python3
"""`make soak`: ingest plus budget checks for a while, watching for slow leaks.

    soak.py [--minutes 30] [--collector PATH] [--interval SECONDS] [--rate EVENTS_PER_S]

A private durable PostgreSQL cluster and one collector; the journaled load (loadgen.py) at a
steady pace, its tenants a slow random walk (new tenants keep appearing, old ones fade, as
customers do); a thread of CheckBudget calls on the current tenants against team, tenant and
org caps. Every --interval it samples the collector's RSS and open file descriptors, the
database's connections, dead tuples over every table (pg_stat_user_tables) and the size per
row of spend_counters, counted exactly (the table writers update in place: bloat shows
there first; its heap alone is printed beside it).
The ledger itself grows by design; its size is printed, not judged.

Flat, as judged here: the first third of the run is warm-up (at least 2 minutes; the first
half of a run shorter than 4 minutes). Over the rest, the least-squares slope of each judged
series times the length of that window (the growth a trend line explains) must stay under a
limit: max(an absolute floor, a share of the series' median); see LIMITS. Dead tuples are
judged as a share of all tuples: autovacuum lets a table carry dead tuples up to a fraction
of its size (20% by default), so on growing tables their count grows by design while the
share must not; it is a sawtooth, hence a wide limit. Then the ledger is compared with the
journal as in the fault suite. Prints every sample, a verdict per series, and exits 1 if
anything is not flat or the ledger disagrees.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e", "python"))

import grpc  # noqa: E402

import cluster  # noqa: E402
import collector_harness as harness  # noqa: E402
import ledger_check  # noqa: E402
from journal import FEATURES, TEAMS, EventSource, Journal, Oracle  # noqa: E402
from loadgen import LoadGenerator  # noqa: E402

# series -> (absolute floor, share of the median): the growth allowed over the judged window.
LIMITS = {
    "rss_mb": (8.0, 0.05),
    "open_fds": (4.0, 0.0),
    "pg_connections": (2.0, 0.0),
    "dead_tuple_ratio": (0.05, 0.5),
    "counter_bytes_per_row": (0.0, 0.25),
}

SAMPLE_SQL = """
SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
          AND pid <> pg_backend_pid()) || '|' ||
       (SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables) || '|' ||
       (SELECT coalesce(sum(n_live_tup), 0) FROM pg_stat_user_tables) || '|' ||
       pg_total_relation_size('spend_counters') || '|' || pg_relation_size('spend_counters')
       || '|' || (SELECT greatest(count(*), 1) FROM spend_counters) || '|' ||
       pg_database_size(current_database())
"""


class TenantWalk:
    """Tenants around a centre that drifts by one every `step_seconds`: about 40 are active
    at any time, and over the run the set moves on."""

    def __init__(self, step_seconds=2.0):
        self.t0 = time.monotonic()
        self.step_seconds = step_seconds

    def __call__(self, rng):
        centre = int((time.monotonic() - self.t0) / self.step_seconds)
        return f"w{max(0, centre + int(rng.gauss(0, 10)))}"


def checks(pb, pb_budget, target, walk, stop, stats, per_second=20):
    rng = random.Random(7)
    with harness.channel(target) as ch:
        call = ch.unary_unary("/stepledger.v1.Budget/CheckBudget",
                              request_serializer=pb_budget.CheckBudgetRequest.SerializeToString,
                              response_deserializer=pb_budget.CheckBudgetResponse.FromString)
        while not stop.is_set():
            team = rng.choice(TEAMS)
            req = pb_budget.CheckBudgetRequest(estimated_cost_nano_usd=rng.randrange(1, 10**6))
            req.tags.feature, req.tags.team = rng.choice(FEATURES[team]), team
            req.tags.tenant = walk(rng)
            req.tags.workload_class = pb.WORKLOAD_CLASS_INTERACTIVE
            req.tags.environment = pb.ENVIRONMENT_PRODUCTION
            req.tags.parent_run_id = f"check-{rng.randrange(10**9)}"
            try:
                call(req, timeout=10)
                stats["checks"] += 1
            except grpc.RpcError as e:
                stats["check_errors"] += 1
                stats["last_check_error"] = f"{e.code().name}: {e.details()}"
            time.sleep(1.0 / per_second)


def put_caps(pb_budget, target, tenants):
    with harness.channel(target) as ch:
        put = ch.unary_unary("/stepledger.v1.Budget/PutBudget",
                             request_serializer=pb_budget.PutBudgetRequest.SerializeToString,
                             response_deserializer=pb_budget.Cap.FromString)
        caps = [("team", pb_budget.SCOPE_TEAM, t) for t in TEAMS]
        caps += [("tenant", pb_budget.SCOPE_TENANT, t) for t in tenants]
        for kind, scope, key in caps:
            cap = pb_budget.Cap(id=f"soak-{kind}-{key}", scope=scope, key=key,
                                period=pb_budget.PERIOD_MONTHLY, limit_nano_usd=10**15,
                                action=pb_budget.CAP_ACTION_ALERT, owner="soak",
                                signed_off_by="soak")
            put(pb_budget.PutBudgetRequest(cap=cap, changed_by="soak"), timeout=30)
    ledger_check.put_org_cap(pb_budget, target)


def slope(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den


def judge(samples, warmup_s):
    judged = [s for s in samples if s["t"] >= warmup_s]
    verdicts = {}
    if len(judged) < 3:
        return {"_": {"flat": False, "why": "fewer than 3 samples after warm-up"}}
    xs = [s["t"] for s in judged]
    span = xs[-1] - xs[0]
    for name, (floor, share) in LIMITS.items():
        ys = [s[name] for s in judged]
        growth = slope(xs, ys) * span
        limit = max(floor, share * statistics.median(ys))
        verdicts[name] = {"median": round(statistics.median(ys), 4), "min": min(ys),
                          "max": max(ys), "trend_growth": round(growth, 4),
                          "limit": round(limit, 4), "flat": growth <= limit}
    return verdicts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 30)))
    ap.add_argument("--collector", default=os.environ.get("STEPLEDGER_COLLECTOR_BIN") or
                    os.path.join(cluster.SOURCE_DIR, "build/release/server/stepledger-collector"))
    ap.add_argument("--interval", type=float, default=0)
    ap.add_argument("--rate", type=float, default=500, help="events per second, about")
    args = ap.parse_args()
    os.environ["STEPLEDGER_COLLECTOR_BIN"] = os.path.abspath(args.collector)
    duration = args.minutes * 60
    interval = args.interval or max(5.0, duration / 120)
    warmup = max(min(120.0, duration / 2), duration / 3)

    pb = harness.api_modules()
    from stepledger.v1 import budget_pb2  # generated by api_modules

    pg = cluster.PgCluster()
    workdir = tempfile.mkdtemp(prefix="stepledger-soak.")
    collector = None
    try:
        db_url = pg.new_database("soak")
        collector = cluster.Collector(db_url)
        put_caps(budget_pb2, collector.target, [f"w{i}" for i in range(0, 200, 5)])
        walk = TenantWalk()
        journal_path = os.path.join(workdir, "soak.journal.jsonl")
        journal = Journal(journal_path)
        source = EventSource(pb, 1, walk, "soak")
        streams, batch = 2, 50
        gen = LoadGenerator(pb, journal, source, lambda: collector.target, streams=streams,
                            window=2, batch_size=batch, pause=streams * batch / args.rate)
        stop = threading.Event()
        stats = {"checks": 0, "check_errors": 0}
        checker = threading.Thread(target=checks, daemon=True,
                                   args=(pb, budget_pb2, collector.target, walk, stop, stats))
        print(f"soak: {args.minutes:g} min, ~{args.rate:g} events/s, CheckBudget ~20/s, sample "
              f"every {interval:g} s, warm-up {warmup:g} s; collector {args.collector}",
              flush=True)
        print("t_s  rss_mb  fds  pg_conn  dead_tup  dead_ratio  counter_B/row  (heap)  "
              "counter_rows  db_mb  acks  checks",
              flush=True)
        gen.start()
        checker.start()
        t0 = time.monotonic()
        samples = []
        while True:
            t = time.monotonic() - t0
            row = cluster.query(db_url, SAMPLE_SQL).split("|")
            conns, dead, live, csize, cheap, crows, dbsize = map(int, row)
            s = {"t": round(t), "rss_mb": round(collector.rss_bytes() / 2**20, 1),
                 "open_fds": collector.open_fds(), "pg_connections": conns,
                 "dead_tuples": dead, "dead_tuple_ratio": round(dead / max(1, dead + live), 4),
                 "counter_bytes_per_row": round(csize / crows, 1),
                 "counter_heap_bytes_per_row": round(cheap / crows, 1), "counter_rows": crows,
                 "db_mb": round(dbsize / 2**20), "acks": gen.acks, "checks": stats["checks"]}
            samples.append(s)
            print(f"{s['t']:4d} {s['rss_mb']:7.1f} {s['open_fds']:4d} {conns:8d} {dead:9d} "
                  f"{s['dead_tuple_ratio']:11.4f} "
                  f"{s['counter_bytes_per_row']:14.1f} {s['counter_heap_bytes_per_row']:7.1f} "
                  f"{crows:13d} {s['db_mb']:6d} {gen.acks:5d} "
                  f"{stats['checks']:7d}", flush=True)
            if t >= duration:
                break
            time.sleep(min(interval, max(0.0, duration - t)))
        stop.set()
        checker.join(timeout=30)
        drained = gen.stop_and_drain()
        journal.close()
        figures, problems = ledger_check.compare(db_url, Oracle(journal_path), pb, budget_pb2,
                                                 collector.target)
        if not drained:
            problems.append("the load did not drain")
        if stats["check_errors"]:
            problems.append(f"{stats['check_errors']} CheckBudget errors, last: "
                            f"{stats.get('last_check_error')}")
        if not collector.alive():
            problems.append("the collector died")
        verdicts = judge(samples, warmup)
        not_flat = [k for k, v in verdicts.items() if not v["flat"]]
        elapsed = time.monotonic() - t0
        summary = {"minutes": args.minutes, "events": figures["events_stored"],
                   "events_per_s": round(figures["events_stored"] / elapsed),
                   "checks": stats["checks"], "check_errors": stats["check_errors"],
                   "tenant_walk_reached": walk(random.Random(0)), "warmup_s": warmup,
                   "series": verdicts, "ledger": figures, "not_flat": not_flat,
                   "problems": problems}
        for name, v in verdicts.items():
            print(f"{name:22s} median {v.get('median')}  range {v.get('min')}..{v.get('max')}  "
                  f"trend growth after warm-up {v.get('trend_growth')} (limit "
                  f"{v.get('limit')}): {'flat' if v['flat'] else 'NOT FLAT'}", flush=True)
        print("soak: " + json.dumps(summary, separators=(", ", ": ")), flush=True)
        ok = not not_flat and not problems
        print(f"soak: {'PASS' if ok else 'FAIL'}" +
              ("" if ok else f" (not flat: {not_flat}; problems: {problems})"), flush=True)
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"soak: journal kept in {workdir}", flush=True)
        return 0 if ok else 1
    finally:
        if collector is not None:
            collector.stop()
        pg.destroy()


if __name__ == "__main__":
    sys.exit(main())
