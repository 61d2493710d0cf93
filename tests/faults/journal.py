"""The oracle of the fault suite: what was sent, with which content, and what was acked.

Every batch is written to a JSON Lines file when it is first made (its events' ids, content
digests and costs) and again when an ack for it arrives (accepted, duplicates, rejections).
The ledger checks read this file back, not the generator's memory, so what a scenario is judged
against is exactly what a client could have known.

The digest is SHA-256 of the StepEvent's deterministic serialization, the same definition the
collector stores in event_keys.digest and steps.digest (docs/RELIABILITY.md, "Idempotency"),
so a stored row can be matched to the very version that was sent.
"""
import hashlib
import json
import random
import threading
import time


def event_digest(event):
    return hashlib.sha256(event.SerializeToString(deterministic=True)).hexdigest()


class Journal:
    """Append-only; safe to call from several threads."""

    def __init__(self, path):
        self.path = path
        self._file = open(path, "w")
        self._lock = threading.Lock()

    def sent(self, sequence, events, mutated=False):
        rec = {"s": sequence, "ids": [e.event_id for e in events],
               "d": [event_digest(e) for e in events], "c": [e.cost_nano_usd for e in events]}
        if mutated:
            rec["m"] = True
        self._write(rec)

    def acked(self, sequence, ack):
        self._write({"a": sequence, "acc": ack.accepted, "dup": ack.duplicates,
                     "rej": [[r.event_id, r.field, r.reason] for r in ack.rejected]})

    def _write(self, rec):
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self):
        with self._lock:
            self._file.close()


class Oracle:
    """The journal read back: per event id, the versions sent and whether an ack covered it."""

    def __init__(self, path):
        self.versions = {}        # event_id -> {digest: cost}
        self.first_digest = {}    # event_id -> digest of the first version sent
        self.acked_ids = set()    # ids in at least one acked batch
        self.batches = {}         # sequence -> (ids, digests)
        self.acked_batches = set()
        self.ack_accepted = 0     # sum of BatchAck.accepted over every ack received
        self.ack_duplicates = 0
        self.conflicts_reported = 0
        self.other_rejections = []
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if "s" in rec:
                    self.batches[rec["s"]] = (rec["ids"], rec["d"])
                    for i, d, c in zip(rec["ids"], rec["d"], rec["c"]):
                        self.versions.setdefault(i, {})[d] = c
                        self.first_digest.setdefault(i, d)
                else:
                    self.acked_batches.add(rec["a"])
                    self.acked_ids.update(self.batches[rec["a"]][0])
                    self.ack_accepted += rec["acc"]
                    self.ack_duplicates += rec["dup"]
                    for event_id, field, reason in rec["rej"]:
                        if field == "event_id" and reason.startswith("conflict"):
                            self.conflicts_reported += 1
                        else:
                            self.other_rejections.append((event_id, field, reason))

    @property
    def unacked_batches(self):
        return len(self.batches) - len(self.acked_batches)


TEAMS = ["mail-ai", "search", "support-bot", "growth"]
FEATURES = {"mail-ai": ["inbox-triage", "smart-reply"], "search": ["answer-box"],
            "support-bot": ["ticket-draft", "kb-lookup"], "growth": ["lead-score"]}


class EventSource:
    """Makes agent runs (a root and up to three children, some of which carry no tags and
    inherit the root's) and hands out their events in a shuffled order, so children often
    arrive before their root, in other batches and on other streams.

    tenant_fn() picks the tenant of a new run (a fixed set here, a random walk in the soak).
    Thread-safe.
    """

    def __init__(self, pb, seed, tenant_fn, prefix):
        self.pb = pb
        self.rng = random.Random(seed)
        self.tenant_fn = tenant_fn
        self.prefix = prefix
        self._open = []  # runs with events not handed out yet
        self._runs = 0
        self._lock = threading.Lock()

    def take(self, n):
        with self._lock:
            out = []
            while len(out) < n:
                if len(self._open) < 8 or self.rng.random() < 0.3:
                    self._open.append(self._new_run())
                run = self.rng.randrange(len(self._open))
                events = self._open[run]
                out.append(events.pop(self.rng.randrange(len(events))))
                if not events:
                    self._open.pop(run)
            return out

    def flush(self):
        """Every event not handed out yet (so that every run's root is sent eventually)."""
        with self._lock:
            out = [e for events in self._open for e in events]
            self._open = []
            return out

    def _new_run(self):
        pb, rng = self.pb, self.rng
        self._runs += 1
        run_id = f"{self.prefix}-r{self._runs}"
        team = rng.choice(TEAMS)
        feature = rng.choice(FEATURES[team])
        tenant = self.tenant_fn(rng)
        events = []
        for k in range(1 + rng.randrange(4)):
            e = pb.StepEvent(event_id=f"{run_id}-e{k}", step_id=f"s{k}",
                             name="plan" if k == 0 else "tool",
                             kind=pb.STEP_KIND_MODEL_CALL if k == 0 else pb.STEP_KIND_TOOL_CALL,
                             provider="openai", model="gpt-4o-mini",
                             cost_nano_usd=rng.randrange(1, 2_000_000))
            e.tags.parent_run_id = run_id
            e.tags.environment = pb.ENVIRONMENT_PRODUCTION
            if k == 0 or rng.random() < 0.5:
                e.tags.feature = feature
                e.tags.team = team
                e.tags.tenant = tenant
                e.tags.workload_class = pb.WORKLOAD_CLASS_INTERACTIVE
            if k > 0:
                e.parent_step_id = "s0"
            now = time.time()
            e.started_at.seconds = int(now)
            e.started_at.nanos = int((now % 1) * 1e9) // 1000 * 1000  # microseconds, as stored
            events.append(e)
        return events


def mutated(pb, event, rng):
    """The same event id with another cost: a client bug the collector must not store."""
    m = pb.StepEvent()
    m.CopyFrom(event)
    m.cost_nano_usd = event.cost_nano_usd + 1 + rng.randrange(1_000_000)
    return m
