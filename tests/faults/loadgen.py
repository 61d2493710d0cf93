"""A journaled load generator: several StreamSteps streams, each with a window of unacked
batches, that re-send every unacked batch (same sequence, same events) after any failure, as
the client contract says (docs/RELIABILITY.md, "The contract").

It never re-sends an acked batch, so an acked event the ledger lost stays lost and the checks
see it. Batches are journaled when first made and when acked (journal.py).
"""
import collections
import threading
import time

import grpc

import collector_harness as harness

METHOD = "/stepledger.v1.Collector/StreamSteps"
# Not grpc.min_reconnect_backoff_ms: it is also how long one connection attempt (TCP and the
# TLS handshake) may take (client/python/stepledger/config.py).
CHANNEL_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 100),
                   ("grpc.max_reconnect_backoff_ms", 1000)]
# A stream with batches in flight and no ack for this long is cancelled and its batches re-sent.
STALL_SECONDS = 30


class Batch:
    def __init__(self, sequence, events):
        self.sequence = sequence
        self.events = events


class LoadGenerator:
    """start() runs `streams` threads until stop_and_drain(); target() names the collector
    (it may move, so it is asked at every reconnect)."""

    def __init__(self, pb, journal, source, target, streams=3, window=4, batch_size=40,
                 pause=0.0):
        self.pb = pb
        self.journal = journal
        self.source = source
        self.target = target
        self.streams = streams
        self.window = window
        self.batch_size = batch_size
        self.pause = pause  # seconds between new batches per stream (the soak's pace)
        self._lock = threading.Lock()
        self._resend = collections.deque()  # unacked batches waiting for a stream
        self._inflight = 0
        self._next_sequence = 1
        self._producing = True
        self._stopping = False
        self._threads = []
        self.failures = collections.Counter()  # stream ends by status code
        self.acks = 0
        self.sessions = 0

    def start(self):
        for _ in range(self.streams):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._threads.append(t)

    def stop_and_drain(self, timeout=180):
        """Stops making new batches, sends the events not handed out yet (every run's root),
        and waits until every batch is acked. Returns True if that happened in time."""
        with self._lock:
            self._producing = False
            rest = self.source.flush()
            for i in range(0, len(rest), self.batch_size):
                self._resend.append(self._make_batch(rest[i:i + self.batch_size]))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._resend and self._inflight == 0:
                    break
            time.sleep(0.2)
        with self._lock:
            drained = not self._resend and self._inflight == 0
            self._stopping = True
        for t in self._threads:
            t.join(timeout=STALL_SECONDS + 10)
        return drained

    def _make_batch(self, events):
        # REQUIRES: self._lock held.
        b = Batch(self._next_sequence, events)
        self._next_sequence += 1
        self.journal.sent(b.sequence, events)
        return b

    def _next_batch(self):
        """An unacked batch to re-send first, else a new one; None when there is nothing."""
        with self._lock:
            if self._resend:
                b = self._resend.popleft()
            elif self._producing:
                b = self._make_batch(self.source.take(self.batch_size))
            else:
                return None
            self._inflight += 1
            return b

    def _run(self):
        while not self._stopping:
            try:
                self._session()
            except Exception as e:  # noqa: BLE001  (any failure: reconnect, re-send)
                self.failures[type(e).__name__] += 1
            if not self._stopping:
                time.sleep(0.2)

    def _session(self):
        """One stream: send up to `window` batches ahead, journal each ack, and on any end
        put every unacked batch back for re-sending."""
        inflight = {}
        cond = threading.Condition()
        state = {"done": False, "last_progress": time.monotonic(), "call": None}

        def requests():
            while True:
                with cond:
                    while len(inflight) >= self.window and not state["done"]:
                        cond.wait(0.1)
                        stalled = time.monotonic() - state["last_progress"] > STALL_SECONDS
                        if stalled and state["call"] is not None:
                            state["call"].cancel()
                    if state["done"] or self._stopping:
                        return
                b = self._next_batch()
                if b is None:
                    # Draining: end this stream once its own batches are acked.
                    with cond:
                        while inflight and not state["done"]:
                            cond.wait(0.1)
                    return
                with cond:
                    if state["done"]:  # the stream ended meanwhile: the batch waits for the next
                        with self._lock:
                            self._inflight -= 1
                            self._resend.appendleft(b)
                        return
                    inflight[b.sequence] = b
                yield self.pb.StepBatch(sequence=b.sequence, events=b.events)
                if self.pause:
                    time.sleep(self.pause)

        self.sessions += 1
        with harness.channel(self.target(), options=CHANNEL_OPTIONS) as channel:
            stub = channel.stream_stream(METHOD,
                                         request_serializer=self.pb.StepBatch.SerializeToString,
                                         response_deserializer=self.pb.BatchAck.FromString)
            call = stub(requests())
            state["call"] = call
            code = "OK"
            try:
                for ack in call:
                    with cond:
                        b = inflight.pop(ack.sequence, None)
                        state["last_progress"] = time.monotonic()
                        cond.notify_all()
                    if b is None:
                        raise RuntimeError(f"ack for unknown sequence {ack.sequence}")
                    self.journal.acked(b.sequence, ack)
                    with self._lock:
                        self._inflight -= 1
                        self.acks += 1
            except grpc.RpcError as e:
                code = e.code().name
            finally:
                with cond:
                    state["done"] = True
                    cond.notify_all()
                    unacked = list(inflight.values())
                    inflight.clear()
                with self._lock:
                    self._inflight -= len(unacked)
                    self._resend.extend(sorted(unacked, key=lambda b: b.sequence))
                if code != "OK":
                    self.failures[code] += 1
                call.cancel()
