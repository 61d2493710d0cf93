"""Recorder: hands StepEvents to the collector in the background, and loses none it accepted.

    recorder = Recorder()                     # STEPLEDGER_TARGET, default 127.0.0.1:50051
    recorder.record(event)                    # never blocks with the default policy
    recorder.close(timeout=5)                 # flushes what is left, within the deadline

How it works (the protocol is docs/API.md, "Collector.StreamSteps"):
- record() serializes the event once, appends it to a bounded in-memory buffer (and to the
  spool, when there is one) and returns. An event without an event_id gets one first.
- A background thread keeps one Collector.StreamSteps stream open and sends the buffer as
  StepBatches of up to `batch_size` events, or fewer once the oldest waiting event is
  `flush_interval` old. At most `max_in_flight` batches await their BatchAck at once.
- A BatchAck means the batch is committed in PostgreSQL: only then are its events released
  (and marked acknowledged in the spool). Acks are matched by sequence, in any order.
- When the stream fails (collector restarted, database down, no ack within `ack_timeout`),
  every unacked batch is re-sent, with the same bytes and therefore the same event ids, on a
  new stream after an exponential backoff. Events already stored come back as duplicates.
- Rejected events (the ack's `rejected` list) are counted and passed to `on_rejected`.

Buffer-full policy: the buffer holds at most `max_buffer` events that are not yet acked
(waiting or in flight). When it is full, record()
- with on_full="drop" (the default, like OpenTelemetry's batch processor): drops the event at
  once, returns False, counts it in stats().dropped and logs a warning;
- with on_full="block": waits up to `block_timeout` seconds for room, then does the same.
Nothing is dropped silently. Events replayed from the spool at start are held in addition to
that bound (they were accepted before).

Thread safety: record, flush, close and stats may be called from any thread. asyncio code can
call record() directly (with on_full="drop" it never waits) and await flush_async/close_async.
"""
import asyncio
import atexit
import collections
import dataclasses
import itertools
import logging
import threading
import time

import grpc

from . import config
from .run_context import new_id
from .spool import Spool
from .v1 import collector_pb2_grpc, steps_pb2

log = logging.getLogger("stepledger")

MAX_BATCH_EVENTS = 1000  # the collector's limit per StepBatch


@dataclasses.dataclass(frozen=True)
class RecorderStats:
    """Counters since the Recorder started. Every event record() was given ends up in exactly
    one of: acked (accepted + duplicates + rejected), dropped, pending, or lost."""
    recorded: int = 0          # events record() accepted into the buffer
    replayed: int = 0          # events found in the spool at start and re-sent
    accepted: int = 0          # stored for the first time (acked)
    duplicates: int = 0        # already stored with identical content (acked)
    rejected: int = 0          # refused by the collector, with a reason (acked)
    dropped: int = 0           # refused by record(): buffer full or recorder closed
    pending: int = 0           # held now: waiting or in flight, not yet acked
    lost: int = 0              # still unacked when close() gave up and there is no spool
    batches_sent: int = 0      # StepBatches written, re-sends included
    batches_resent: int = 0    # of those, re-sends after a failed stream
    streams_opened: int = 0
    stream_failures: int = 0
    last_error: str = ""       # the last stream failure, "CODE: details"


class _Item:
    __slots__ = ("index", "data", "ref", "queued_at")

    def __init__(self, index, data, ref, queued_at):
        self.index = index
        self.data = data
        self.ref = ref
        self.queued_at = queued_at


class _Batch:
    __slots__ = ("sequence", "items", "message", "stream", "sent_at", "times_sent")

    def __init__(self, sequence, items):
        self.sequence = sequence
        self.items = items
        batch = steps_pb2.StepBatch(sequence=sequence)
        for item in items:
            batch.events.add().MergeFromString(item.data)
        self.message = batch
        self.stream = None      # the _Stream it was last written on, None: to be (re)sent
        self.sent_at = 0.0
        self.times_sent = 0


class _Stream:
    """One StreamSteps call: its request queue, the call, and how it ended."""

    def __init__(self, number):
        self.number = number
        self.requests = _RequestQueue()
        self.call = None
        self.done = False
        self.error = None


class _RequestQueue:
    """The request iterator gRPC reads from; end() releases a reader blocked on it."""
    _END = object()

    def __init__(self):
        self._queue = collections.deque()
        self._cond = threading.Condition()

    def put(self, message):
        with self._cond:
            self._queue.append(message)
            self._cond.notify()

    def end(self):
        self.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        with self._cond:
            while not self._queue:
                self._cond.wait()
            message = self._queue.popleft()
        if message is self._END:
            raise StopIteration
        return message


class Recorder:
    def __init__(self, target=None, *, channel=None, credentials=None, api_key=None,
                 batch_size=None,
                 flush_interval=None, max_buffer=None, on_full=None, block_timeout=1.0,
                 max_in_flight=8, spool_dir=None, spool_fsync=False, on_rejected=None,
                 ack_timeout=30.0, backoff_initial=0.1, backoff_max=5.0, close_on_exit=True,
                 exit_timeout=5.0, clock=time.monotonic):
        """See the module docstring. Unset arguments come from the environment (config.py).

        channel: an existing grpc.Channel (then target/credentials are ignored and the channel
        is not closed by close()). api_key: sent with the stream (default
        STEPLEDGER_API_KEY). on_rejected(rejection) is called from a background thread
        with each stepledger.v1.Rejection; exceptions it raises are logged. close_on_exit
        registers close(exit_timeout) with atexit, as tracing SDKs do.
        """
        self._batch_size = batch_size or config.env_int("STEPLEDGER_BATCH_SIZE", 500, 1,
                                                        MAX_BATCH_EVENTS)
        if not 1 <= self._batch_size <= MAX_BATCH_EVENTS:
            raise ValueError(f"batch_size: {self._batch_size} is outside 1..{MAX_BATCH_EVENTS}")
        if flush_interval is None:
            flush_interval = config.env_int("STEPLEDGER_FLUSH_INTERVAL_MS", 1000, 1,
                                            3600_000) / 1000
        if flush_interval <= 0:
            raise ValueError("flush_interval: must be positive")
        self._flush_interval = flush_interval
        self._max_buffer = max_buffer or config.env_int("STEPLEDGER_MAX_BUFFER", 10000, 1,
                                                        10**8)
        if self._max_buffer < 1:
            raise ValueError("max_buffer: must be at least 1")
        self._on_full = on_full or config.env_choice("STEPLEDGER_ON_FULL", "drop",
                                                     ("drop", "block"))
        if self._on_full not in ("drop", "block"):
            raise ValueError(f"on_full: {self._on_full!r} is not 'drop' or 'block'")
        if max_in_flight < 1:
            raise ValueError("max_in_flight: must be at least 1")
        self._block_timeout = block_timeout
        self._max_in_flight = max_in_flight
        self._on_rejected = on_rejected
        self._ack_timeout = ack_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._clock = clock

        self._owns_channel = channel is None
        self._channel = channel or config.make_channel(target, credentials,
                                                       reconnect_max_s=backoff_max)
        self._stub = collector_pb2_grpc.CollectorStub(self._channel)
        self._metadata = config.call_metadata(api_key)

        self._cond = threading.Condition()
        self._queue = collections.deque()   # _Items not yet in a batch, oldest first
        self._batches = {}                  # sequence -> _Batch, every batch not yet acked
        self._held = 0                      # events in _queue and _batches
        self._next_index = 0
        self._next_sequence = 1
        self._flush_waiters = 0
        self._closing = False
        self._closed = False
        self._abandon = False
        self._stream = None
        self._stream_count = 0
        self._retry_at = 0.0
        self._backoff = backoff_initial
        self._counts = collections.Counter()
        self._last_error = ""
        self._last_drop_log = 0.0
        self._failures_in_a_row = 0
        self._last_failure_log = 0.0

        spool_dir = spool_dir or config.env_str("STEPLEDGER_SPOOL_DIR")
        self._spool = Spool(spool_dir, fsync=spool_fsync) if spool_dir else None
        if self._spool is not None:
            replayed = self._spool.replay()
            now = self._clock()
            for ref, data in replayed:
                self._queue.append(_Item(self._next_index, data, ref, now))
                self._next_index += 1
            self._held = len(replayed)
            self._counts["replayed"] = len(replayed)
            if replayed:
                log.info("stepledger: re-sending %d events from spool %s", len(replayed),
                         spool_dir)

        self._worker = threading.Thread(target=self._run, name="stepledger-recorder",
                                        daemon=True)
        self._worker.start()
        self._exit_timeout = exit_timeout
        if close_on_exit:
            atexit.register(self._close_at_exit)

    # ----- public API -----

    def record(self, event):
        """Queues one StepEvent; returns True when accepted, False when dropped (buffer full
        after the policy's wait, or recorder closed; counted in stats().dropped and logged).
        An event without event_id is given one (set on `event`), so it can be re-sent.
        A finished Step (stepledger.Step) may be passed instead of its StepEvent."""
        if hasattr(event, "to_event"):
            event = event.to_event()
        if not event.event_id:
            event.event_id = new_id("ev-")
        data = event.SerializeToString(deterministic=True)
        with self._cond:
            if self._closing:
                return self._drop("recorder is closed")
            if self._held >= self._max_buffer and self._on_full == "block":
                deadline = self._clock() + self._block_timeout
                while self._held >= self._max_buffer and not self._closing:
                    remaining = deadline - self._clock()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
            if self._held >= self._max_buffer or self._closing:
                return self._drop(f"buffer full ({self._max_buffer} events not yet acked)")
            ref = None
            if self._spool is not None:
                try:
                    ref = self._spool.append(data)
                except OSError as e:  # disk full, directory gone: refuse it, loudly
                    return self._drop(f"spool write failed: {e}")
            self._queue.append(_Item(self._next_index, data, ref, self._clock()))
            self._next_index += 1
            self._held += 1
            self._counts["recorded"] += 1
            if len(self._queue) >= self._batch_size:
                self._cond.notify_all()
        return True

    def flush(self, timeout=None):
        """Waits until every event recorded before the call is acked by the collector (partial
        batches are sent at once). Returns False if `timeout` seconds passed first."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            watermark = self._next_index - 1
            self._flush_waiters += 1
            self._cond.notify_all()
            try:
                while self._oldest_unacked_index() <= watermark:
                    if self._worker_gone():
                        return False
                    remaining = None if deadline is None else deadline - self._clock()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining if remaining is not None else 1.0)
                return True
            finally:
                self._flush_waiters -= 1

    def close(self, timeout=5.0):
        """Flushes within `timeout` seconds, then ends the stream. Events still unacked are
        kept in the spool for the next start, or, without a spool, counted as lost and logged
        as an error. Returns True when nothing was left unacked. Idempotent."""
        deadline = self._clock() + timeout
        with self._cond:
            if self._closed:
                return self._held == 0
            self._closed = True
        try:
            atexit.unregister(self._close_at_exit)
        except Exception:  # noqa: BLE001 (interpreter shutting down)
            pass
        self.flush(max(0.0, deadline - self._clock()))
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._worker.join(max(0.0, deadline - self._clock()))
        if self._worker.is_alive():
            with self._cond:
                self._abandon = True
                stream = self._stream
                self._cond.notify_all()
            if stream is not None and stream.call is not None:
                stream.call.cancel()
            self._worker.join(1.0)
        with self._cond:
            left = self._held
            if left and self._spool is None:
                self._counts["lost"] += left
        if left:
            if self._spool is not None:
                log.warning("stepledger: %d events not acked before close; kept in spool %s "
                            "for the next start", left, self._spool.directory)
            else:
                log.error("stepledger: %d events not acked before close and there is no "
                          "spool: they are lost (last error: %s)", left, self._last_error)
        if self._spool is not None:
            self._spool.close()
        if self._owns_channel:
            self._channel.close()
        return left == 0

    async def flush_async(self, timeout=None):
        return await asyncio.get_running_loop().run_in_executor(None, self.flush, timeout)

    async def close_async(self, timeout=5.0):
        return await asyncio.get_running_loop().run_in_executor(None, self.close, timeout)

    def stats(self):
        with self._cond:
            c = self._counts
            return RecorderStats(
                recorded=c["recorded"], replayed=c["replayed"], accepted=c["accepted"],
                duplicates=c["duplicates"], rejected=c["rejected"], dropped=c["dropped"],
                pending=self._held, lost=c["lost"], batches_sent=c["batches_sent"],
                batches_resent=c["batches_resent"], streams_opened=c["streams_opened"],
                stream_failures=c["stream_failures"], last_error=self._last_error)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ----- internals -----

    def _close_at_exit(self):
        self.close(self._exit_timeout)

    # REQUIRES: self._cond held.
    def _drop(self, why):
        self._counts["dropped"] += 1
        now = self._clock()
        # A warning at most every 10 s: the counter has every drop, the log says it happens.
        if now - self._last_drop_log >= 10.0 or self._counts["dropped"] == 1:
            self._last_drop_log = now
            log.warning("stepledger: dropped an event: %s (%d dropped so far)", why,
                        self._counts["dropped"])
        return False

    # REQUIRES: self._cond held.
    def _oldest_unacked_index(self):
        oldest = self._queue[0].index if self._queue else self._next_index
        for batch in self._batches.values():
            oldest = min(oldest, batch.items[0].index)
        return oldest

    def _worker_gone(self):
        return not self._worker.is_alive()

    def _run(self):
        try:
            self._loop()
        except Exception:  # noqa: BLE001 (a bug here must not die silently)
            log.exception("stepledger: recorder thread failed; events stay unacked")
        finally:
            with self._cond:
                self._cond.notify_all()

    def _loop(self):
        while True:
            to_send = []
            open_stream = False
            half_close = None
            with self._cond:
                if self._abandon:
                    return
                stream = self._stream
                if stream is not None and stream.done:
                    self._end_stream(stream)
                    continue
                now = self._clock()
                idle = not self._queue and not self._batches
                if self._closing and idle:
                    if stream is None:
                        return
                    half_close = stream
                    self._stream = None
                elif stream is None:
                    if idle:
                        self._cond.wait(self._flush_interval)
                        continue
                    if now < self._retry_at:
                        self._cond.wait(self._retry_at - now)
                        continue
                    open_stream = True
                    self._stream_count += 1
                    stream = _Stream(self._stream_count)
                    self._stream = stream
                else:
                    to_send = self._next_batches(stream, now)
                    if not to_send:
                        self._cond.wait(self._wait_time(stream, now))
                        continue
            if half_close is not None:
                self._half_close(half_close)
                return
            if open_stream:
                self._open(stream)
                continue
            for batch in to_send:
                stream.requests.put(batch.message)

    # REQUIRES: self._cond held. Marks batches as written on `stream` and returns them.
    def _next_batches(self, stream, now):
        in_flight = sum(1 for b in self._batches.values() if b.stream is stream)
        oldest_sent = min((b.sent_at for b in self._batches.values() if b.stream is stream),
                          default=None)
        if oldest_sent is not None and now - oldest_sent > self._ack_timeout:
            stream.error = f"DEADLINE_EXCEEDED: no ack within {self._ack_timeout:g} s"
            if stream.call is not None:
                stream.call.cancel()
            return []
        out = []
        for sequence in sorted(self._batches):  # re-sends first, oldest first
            batch = self._batches[sequence]
            if in_flight >= self._max_in_flight:
                break
            if batch.stream is None:
                out.append(batch)
                in_flight += 1
        hurry = self._flush_waiters > 0 or self._closing
        while in_flight < self._max_in_flight and self._queue and (
                len(self._queue) >= self._batch_size or hurry or
                now - self._queue[0].queued_at >= self._flush_interval):
            count = min(self._batch_size, len(self._queue))
            batch = _Batch(self._next_sequence, list(itertools.islice(self._queue, count)))
            for _ in range(count):
                self._queue.popleft()
            self._next_sequence += 1
            self._batches[batch.sequence] = batch
            out.append(batch)
            in_flight += 1
        for batch in out:
            if batch.times_sent:
                self._counts["batches_resent"] += 1
            batch.stream = stream
            batch.sent_at = now
            batch.times_sent += 1
            self._counts["batches_sent"] += 1
        return out

    # REQUIRES: self._cond held. How long the worker may sleep when it has nothing to write.
    def _wait_time(self, stream, now):
        sent = [b.sent_at for b in self._batches.values() if b.stream is stream]
        if len(sent) >= self._max_in_flight:
            # The window is full: an ack wakes the worker; otherwise look again when the
            # oldest batch's ack is overdue (never a busy loop on an old queue).
            return max(0.01, min(sent) + self._ack_timeout - now)
        wait = self._flush_interval
        if self._queue:
            wait = max(0.001, self._queue[0].queued_at + self._flush_interval - now)
        if sent:
            wait = min(wait, max(0.01, min(sent) + self._ack_timeout - now))
        return wait

    def _open(self, stream):
        try:
            stream.call = self._stub.StreamSteps(stream.requests, metadata=self._metadata)
        except Exception as e:  # noqa: BLE001 (reported through the stream's end)
            with self._cond:
                stream.error = f"{type(e).__name__}: {e}"
                stream.done = True
                self._cond.notify_all()
            return
        with self._cond:
            self._counts["streams_opened"] += 1
        threading.Thread(target=self._read_acks, args=(stream,), daemon=True,
                         name=f"stepledger-acks-{stream.number}").start()

    def _read_acks(self, stream):
        error = None
        try:
            for ack in stream.call:
                if not self._on_ack(stream, ack):
                    stream.call.cancel()
                    break
        except grpc.RpcError as e:
            error = f"{e.code().name}: {e.details()}"
        except Exception as e:  # noqa: BLE001
            error = f"{type(e).__name__}: {e}"
        with self._cond:
            if stream.error is None:
                stream.error = error
            stream.done = True
            self._cond.notify_all()

    def _on_ack(self, stream, ack):
        """Releases the acked batch. Returns False on a protocol violation (the stream is then
        cancelled and everything unacked re-sent). Called by the stream's one reader thread,
        so no other ack for this batch can race with it."""
        with self._cond:
            batch = self._batches.get(ack.sequence)
            if batch is None or batch.stream is not stream:
                stream.error = f"protocol: ack for sequence {ack.sequence} not in flight"
                log.error("stepledger: %s; re-sending what is unacked", stream.error)
                return False
        # Before the batch is released, so that a flush() that returns has seen them all.
        for rejection in ack.rejected:
            log.warning("stepledger: event %s rejected: %s: %s", rejection.event_id,
                        rejection.field, rejection.reason)
            if self._on_rejected is not None:
                try:
                    self._on_rejected(rejection)
                except Exception:  # noqa: BLE001
                    log.exception("stepledger: on_rejected callback raised")
        if self._spool is not None:
            self._spool.ack([item.ref for item in batch.items])
        with self._cond:
            del self._batches[ack.sequence]
            self._held -= len(batch.items)
            self._counts["accepted"] += ack.accepted
            self._counts["duplicates"] += ack.duplicates
            self._counts["rejected"] += len(ack.rejected)
            self._backoff = self._backoff_initial
            if self._failures_in_a_row:
                log.info("stepledger: collector acknowledging again after %d failed streams",
                         self._failures_in_a_row)
                self._failures_in_a_row = 0
            self._cond.notify_all()
        return True

    # REQUIRES: self._cond held.
    def _end_stream(self, stream):
        """The stream ended: every batch written on it and unacked is to be re-sent."""
        self._stream = None
        stream.requests.end()
        unacked = [b for b in self._batches.values() if b.stream is stream]
        for batch in unacked:
            batch.stream = None
        if stream.error is None and unacked:
            stream.error = "protocol: stream ended OK with batches unacked"
        if stream.error is None:
            return
        self._counts["stream_failures"] += 1
        self._last_error = stream.error
        now = self._clock()
        self._retry_at = now + self._backoff
        self._failures_in_a_row += 1
        # The first failure of an outage, then at most one line every 30 s: the counters have
        # every failure, the log says that it goes on.
        if self._failures_in_a_row == 1 or now - self._last_failure_log >= 30.0:
            self._last_failure_log = now
            log.warning("stepledger: stream failed (%s); %d failures in a row; re-sending %d "
                        "unacked batches (%d events held) in %.1f s", stream.error,
                        self._failures_in_a_row, len(unacked), self._held, self._backoff)
        self._backoff = min(self._backoff * 2, self._backoff_max)

    def _half_close(self, stream):
        """Everything is acked: end the request side; the reader sees the server's OK. close()
        bounds the wait (it sets _abandon and cancels the call when its deadline passes)."""
        stream.requests.end()
        with self._cond:
            while not stream.done and not self._abandon:
                self._cond.wait(0.5)
