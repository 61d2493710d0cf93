"""The fault scenarios: each breaks one thing, repeatedly, while the journaled load runs.

Every body gets a scenario.Run (database, collector, load generator) and returns its own
figures; the ledger is compared with the journal afterwards by scenario.run_scenario.
"""
import random
import time

import grpc

import cluster
import collector_harness as harness
from journal import EventSource, event_digest, mutated
from loadgen import METHOD

# A write group's backend: its transaction is open and its last statement is the write path's
# (a COPY into staging_claims or steps, or the claim in event_keys).
WRITE_GROUP_BACKENDS = """
SELECT count(pg_terminate_backend(pid)) FROM (
  SELECT pid FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid()
    AND backend_type = 'client backend' AND xact_start IS NOT NULL
    AND (query ILIKE '%staging_claims%' OR query ILIKE '%event_keys%'
         OR query ILIKE 'COPY%steps%')
  LIMIT 1) t
"""


def kill9_collector(cycles):
    """SIGKILL the collector at a random moment of steady ingest, restart it on the same
    address; the clients re-send whatever was unacked."""
    def body(run):
        rng = random.Random(run.seed)
        stalls = 0
        for _ in range(cycles):
            time.sleep(rng.uniform(0.2, 2.0))
            run.collector.kill9()
            time.sleep(rng.uniform(0.0, 0.5))
            run.collector.start()
            if not run.wait_for_acks(more=3):
                stalls += 1
        if stalls:
            run.problems.append(f"ingest did not resume after {stalls} restarts")
        return {"kills": cycles}
    return body


def pg_immediate_restart(cycles):
    """`pg_ctl stop -m immediate` (a crash: no checkpoint, backends killed) and a restart,
    while the collector keeps running and must reconnect by itself."""
    def body(run):
        rng = random.Random(run.seed)
        stalls = 0
        down_seconds = 0.0
        for _ in range(cycles):
            time.sleep(rng.uniform(0.5, 2.5))
            run.pg.stop_immediate()
            t = time.monotonic()
            time.sleep(rng.uniform(0.2, 2.0))
            run.pg.start()
            down_seconds += time.monotonic() - t
            if not run.wait_for_acks(more=3):
                stalls += 1
        if stalls:
            run.problems.append(f"ingest did not resume after {stalls} database restarts")
        if not run.collector.alive():
            run.problems.append("the collector exited while the database was away")
        return {"crashes": cycles, "database_down_seconds": round(down_seconds, 1)}
    return body


def backend_terminate(cycles):
    """pg_terminate_backend on a writer's backend in the middle of a write group."""
    def body(run):
        rng = random.Random(run.seed)
        terminated = 0
        for _ in range(cycles):
            time.sleep(rng.uniform(0.2, 1.5))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if cluster.query(run.db_url, WRITE_GROUP_BACKENDS) == "1":
                    terminated += 1
                    break
            run.wait_for_acks(more=2)
        if terminated < cycles:
            run.problems.append(f"found a write group to terminate only {terminated} of "
                                f"{cycles} times")
        # The writer retries a group once on a fresh connection when its connection broke
        # before COMMIT (PgLedgerStore::Commit), so streams rarely see these; the log does.
        with open(run.collector.log_path, errors="replace") as f:
            failed = sum('context="commit group"' in line for line in f)
        if not failed:
            run.problems.append("no write group failed: the terminations hit nothing")
        return {"terminated_in_write_group": terminated, "groups_failed_in_log": failed}
    return body


def commit_cut(proxy, cycles):
    """The link to PostgreSQL dropped after a write group's COMMIT was sent and before its
    reply (commit_proxy.py): the collector must not ack, and the client's re-send of a batch
    that did commit must come back as duplicates, stored once."""
    def body(run):
        rng = random.Random(run.seed)
        missed = 0
        for _ in range(cycles):
            before = proxy.cuts
            proxy.arm(1)
            deadline = time.monotonic() + 30
            while proxy.cuts == before and time.monotonic() < deadline:
                time.sleep(0.02)
            missed += proxy.cuts == before
            time.sleep(rng.uniform(0.3, 1.5))
            run.wait_for_acks(more=2)
        if missed:
            run.problems.append(f"{missed} cuts found no write-group COMMIT to cut")
        return {"cuts": proxy.cuts, "cuts_after_commit_reply": proxy.cuts_after_reply,
                "group_commits_seen": proxy.group_commits}
    return body


def check_commit_cut(line):
    """A cut after the server's reply means a committed batch that was never acked: its
    re-send must have been reported as duplicates."""
    if line.get("cuts_after_commit_reply", 0) and not line.get("ack_duplicates", 0):
        line["result"] = "failed"
        line.setdefault("problems", []).append(
            "committed but unacked batches were re-sent, yet no ack reported duplicates")
    return line


def _send(run, batches):
    """One stream, every batch sent, every ack journaled; returns the acks."""
    pb = run.pb
    with harness.channel(run.collector.target) as ch:
        stub = ch.stream_stream(METHOD, request_serializer=pb.StepBatch.SerializeToString,
                                response_deserializer=pb.BatchAck.FromString)
        acks = list(stub(iter(batches), timeout=60))
    for a in acks:
        run.journal.acked(a.sequence, a)
    return acks


def mutated_retry(cycles):
    """The same event id re-sent with another cost: after an ack, in the same batch as the
    original, and across a kill -9 of the collector. Stored once (the first version), each
    mutated version reported as a conflict in its ack and quarantined."""
    def body(run):
        pb, rng = run.pb, random.Random(run.seed)
        seq = 10**9  # apart from the load generator's sequences
        originals, mutants = [], []
        # Events of their own (not the load's runs), each a root of its own run, so that no
        # child waits for a root this path changed.
        source = EventSource(pb, run.seed, lambda r: "t1", "mut")

        def own_roots(n, tag):
            events = source.take(n)
            for e in events:
                e.event_id = f"{e.event_id}-{tag}"
                e.tags.parent_run_id = e.event_id
                e.parent_step_id = ""
                e.tags.feature, e.tags.team, e.tags.tenant = "inbox-triage", "mail-ai", "t1"
                e.tags.workload_class = pb.WORKLOAD_CLASS_INTERACTIVE
            return events

        for c in range(cycles):
            # 1. Originals, acked.
            events = own_roots(20, f"orig{c}")
            seq += 1
            run.journal.sent(seq, events)
            _send(run, [pb.StepBatch(sequence=seq, events=events)])
            originals += events
            # 2. Mutated copies after the ack; 3. an original and its mutant in one batch.
            muts = [mutated(pb, e, rng) for e in events[:10]]
            fresh = own_roots(1, f"pair{c}")[0]
            pair = [fresh, mutated(pb, fresh, rng)]
            seq += 1
            run.journal.sent(seq, muts, mutated=True)
            seq += 1
            run.journal.sent(seq, pair, mutated=True)
            _send(run, [pb.StepBatch(sequence=seq - 1, events=muts),
                        pb.StepBatch(sequence=seq, events=pair)])
            mutants += muts + pair[1:]
            originals.append(fresh)
            # 4. Mutated copies sent, the collector killed at once, then sent again.
            muts2 = [mutated(pb, e, rng) for e in events[10:]]
            seq += 1
            run.journal.sent(seq, muts2, mutated=True)
            try:
                with harness.channel(run.collector.target) as ch:
                    stub = ch.stream_stream(METHOD,
                                            request_serializer=pb.StepBatch.SerializeToString,
                                            response_deserializer=pb.BatchAck.FromString)
                    call = stub(iter([pb.StepBatch(sequence=seq, events=muts2)]), timeout=60)
                    run.collector.kill9()
                    list(call)
            except grpc.RpcError:
                pass
            if run.collector.alive():
                run.collector.kill9()
            run.collector.start()
            _send(run, [pb.StepBatch(sequence=seq, events=muts2)])
            mutants += muts2
        # Each id stored once, as its first version; each mutant quarantined as a conflict.
        ids = [e.event_id for e in originals]
        want = {e.event_id: event_digest(e) for e in originals}
        rows = cluster.query(run.db_url, "SELECT event_id || '|' || encode(digest, 'hex') "
                             "FROM steps WHERE event_id = ANY(ARRAY['" + "','".join(ids) + "'])")
        got = dict(r.split("|") for r in rows.splitlines())
        wrong = [i for i in ids if got.get(i) != want[i]]
        if wrong:
            run.problems.append(f"not stored as the first version sent: {wrong[:5]}")
        mutant_digests = {event_digest(m) for m in mutants}
        quarantined = int(cluster.query(
            run.db_url, "SELECT count(*) FROM quarantine WHERE reason LIKE 'conflict%' AND "
            "encode(digest, 'hex') = ANY(ARRAY['" + "','".join(sorted(mutant_digests)) + "'])"))
        if quarantined != len(mutant_digests):
            run.problems.append(f"{quarantined} of {len(mutant_digests)} mutated versions "
                                f"quarantined as conflicts")
        return {"mutated_versions": len(mutants), "conflicts_quarantined": quarantined}
    return body


def check_conflicts_reported(line, oracle_conflicts, expected):
    if oracle_conflicts != expected:
        line["result"] = "failed"
        line.setdefault("problems", []).append(
            f"acks reported {oracle_conflicts} conflicts for {expected} mutated versions")
    return line

