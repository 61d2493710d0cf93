"""Ingest that remembers what was acked, and the checks that nothing acked was lost.

Each Sender streams batches of fresh events to a collector, one batch in flight, and keeps
every batch until its BatchAck arrives; when the stream fails (the collector lost its database)
it opens a new stream and sends the unacked batch again, as the client library does. So at the
end every event was acked once or more, and the database must hold each exactly once.
"""
import queue
import threading
import time

import grpc

import collector_harness as harness

pb = harness.api_modules()
METHOD = "/stepledger.v1.Collector/StreamSteps"
TEAMS = ["mail-ai", "knowledge", "devtools"]


def event(event_id, i):
    e = pb.StepEvent(event_id=event_id, step_id="s-" + event_id, name="plan",
                     cost_nano_usd=1000 + (i % 97) * 13, attempt=1)
    e.tags.feature = "inbox-triage"
    e.tags.team = TEAMS[i % len(TEAMS)]
    e.tags.tenant = f"tenant-{i % 7}"
    e.tags.workload_class = pb.WORKLOAD_CLASS_INTERACTIVE
    e.tags.environment = pb.ENVIRONMENT_PRODUCTION
    e.tags.parent_run_id = f"run-{event_id.rsplit('-', 1)[0]}-{i // 10}"
    e.started_at.GetCurrentTime()
    return e


class Sender(threading.Thread):
    def __init__(self, target, name, batch_size=20, pause=0.01):
        super().__init__(daemon=True)
        self.target, self.prefix, self.batch_size, self.pause = target, name, batch_size, pause
        self.stop_sending = threading.Event()
        self.acked = set()         # event ids
        self.sent = set()
        self.ack_times = []        # monotonic time of every ack
        self.failures = []         # (monotonic time, grpc status) of every broken stream
        self.problems = []         # anything an ack said that it must not
        self.sequence = 0
        self.next_id = 0

    def _next_batch(self):
        self.sequence += 1
        events = []
        for _ in range(self.batch_size):
            events.append(event(f"{self.prefix}-{self.next_id}", self.next_id))
            self.next_id += 1
        return self.sequence, events

    def run(self):
        pending = None
        # Sending stops when asked; an unacked batch is still sent until acked (or 90 s pass).
        give_up = None
        while True:
            if self.stop_sending.is_set():
                if pending is None:
                    return
                give_up = give_up or time.monotonic() + 90
                if time.monotonic() > give_up:
                    self.problems.append(f"batch {pending[0]} never acked")
                    return
            requests = queue.Queue()
            channel = harness.channel(self.target)
            call = channel.stream_stream(
                METHOD, request_serializer=pb.StepBatch.SerializeToString,
                response_deserializer=pb.BatchAck.FromString)(iter(requests.get, None),
                                                               timeout=120)
            try:
                while True:
                    if pending is None:
                        if self.stop_sending.is_set():
                            break
                        pending = self._next_batch()
                    seq, events = pending
                    self.sent.update(e.event_id for e in events)
                    requests.put(pb.StepBatch(sequence=seq, events=events))
                    ack = next(call)
                    if ack.sequence != seq or ack.rejected or \
                            ack.accepted + ack.duplicates != len(events):
                        self.problems.append(f"odd ack for batch {seq}: {ack}")
                    self.acked.update(e.event_id for e in events)
                    self.ack_times.append(time.monotonic())
                    pending = None
                    time.sleep(self.pause)
                requests.put(None)
                for _ in call:
                    pass
            except grpc.RpcError as e:
                self.failures.append((time.monotonic(), e.code()))
                time.sleep(0.1)
            except StopIteration:
                self.failures.append((time.monotonic(), "stream ended"))
                time.sleep(0.1)
            finally:
                requests.put(None)
                channel.close()


def start_senders(target, count, prefix):
    senders = [Sender(target, f"{prefix}{i}") for i in range(count)]
    for s in senders:
        s.start()
    return senders


def stop_senders(senders):
    for s in senders:
        s.stop_sending.set()
    for s in senders:
        s.join(120)
        assert not s.is_alive(), "a sender did not finish"
    for s in senders:
        assert not s.problems, s.problems
        assert s.sent == s.acked, f"{len(s.sent - s.acked)} events sent but never acked"


def check_ledger(senders, query):
    """The ledger holds every acked event exactly once, and the spend counters equal it.

    query(sql) runs SQL on the database that is primary now."""
    acked = set().union(*(s.acked for s in senders))
    rows = query("SELECT event_id, count(*) FROM steps GROUP BY event_id").splitlines()
    stored = {}
    for row in rows:
        event_id, n = row.split("|")
        stored[event_id] = int(n)
    twice = [e for e, n in stored.items() if n > 1]
    assert not twice, f"stored more than once: {twice[:5]}"
    missing = acked - stored.keys()
    assert not missing, f"{len(missing)} acked events lost, e.g. {sorted(missing)[:5]}"
    extra = stored.keys() - acked
    assert not extra, f"{len(extra)} stored events that were never sent: {sorted(extra)[:5]}"
    # Counters: every team's daily counter (summed over writers) equals its ledger spend.
    ledger = query("SELECT charged_team, sum(cost_nano_usd) FROM steps GROUP BY 1 ORDER BY 1")
    counters = query("SELECT key, sum(spent_nano_usd) FROM spend_counters WHERE scope = 'team' "
                     "AND period = 'daily' GROUP BY 1 ORDER BY 1")
    assert ledger == counters, f"ledger by team:\n{ledger}\ncounters by team:\n{counters}"
    org_ledger = query("SELECT sum(cost_nano_usd) FROM steps")
    org_counter = query("SELECT sum(spent_nano_usd) FROM spend_counters WHERE scope = 'org' "
                        "AND period = 'monthly'")
    assert org_ledger == org_counter, (org_ledger, org_counter)
    return len(acked)
