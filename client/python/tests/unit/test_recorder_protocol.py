"""Recorder against an in-process fake Collector: acks in any order, re-sends after a failed
stream with the same bytes, protocol violations, rejections, batching by size and time."""
import concurrent.futures
import threading
import time

import grpc
import pytest

from stepledger import Recorder, StepEvent
from stepledger.v1 import collector_pb2_grpc, steps_pb2


class FakeCollector(collector_pb2_grpc.CollectorServicer):
    """Stores events by id; `script(stream_number, batch)` says what to do with each batch:
    "ack", "fail" (end the stream UNAVAILABLE without acking), "hold" (never ack)."""

    def __init__(self, script=None, reverse_acks=False):
        self.script = script or (lambda stream, batch: "ack")
        self.reverse_acks = reverse_acks
        self.stored = {}
        self.received = []          # (stream number, sequence, [event ids])
        self.lock = threading.Lock()
        self.streams = 0
        self.metadata = []

    def StreamSteps(self, request_iterator, context):
        with self.lock:
            self.metadata.append(dict(context.invocation_metadata()))
            self.streams += 1
            number = self.streams
        held = []
        for batch in request_iterator:
            with self.lock:
                self.received.append((number, batch.sequence, [e.event_id for e in batch.events]))
            action = self.script(number, batch)
            if action == "fail":
                context.abort(grpc.StatusCode.UNAVAILABLE, "database unreachable; retry")
            if action == "hold":
                continue
            held.append(batch)
            if not self.reverse_acks or len(held) == 2:
                for b in reversed(held) if self.reverse_acks else held:
                    yield self.ack(b)
                held = []
        for b in held:
            yield self.ack(b)

    def ack(self, batch):
        ack = steps_pb2.BatchAck(sequence=batch.sequence)
        with self.lock:
            for e in batch.events:
                if e.name == "bad":
                    ack.rejected.add(event_id=e.event_id, field="tags.feature",
                                     reason="missing: required in production")
                elif e.event_id in self.stored:
                    assert self.stored[e.event_id] == e.SerializeToString(deterministic=True)
                    ack.duplicates += 1
                else:
                    self.stored[e.event_id] = e.SerializeToString(deterministic=True)
                    ack.accepted += 1
        return ack


@pytest.fixture
def serve():
    servers = []

    def start(servicer):
        server = grpc.server(concurrent.futures.ThreadPoolExecutor(8))
        collector_pb2_grpc.add_CollectorServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(0)


def event(i, name="x"):
    return StepEvent(event_id=f"ev-{i}", step_id=f"s-{i}", name=name)


def test_batches_by_size_and_acks_in_reverse_order_are_matched(serve):
    fake = FakeCollector(reverse_acks=True)
    rec = Recorder(serve(fake), batch_size=10, flush_interval=60, close_on_exit=False)
    for i in range(40):
        rec.record(event(i))
    assert rec.flush(timeout=10)
    assert sorted(fake.stored) == sorted(f"ev-{i}" for i in range(40))
    assert all(len(ids) == 10 for _, _, ids in fake.received)
    stats = rec.stats()
    assert (stats.accepted, stats.pending, stats.batches_sent) == (40, 0, 4)
    assert rec.close(timeout=5)


def test_a_partial_batch_goes_out_after_the_flush_interval(serve):
    fake = FakeCollector()
    rec = Recorder(serve(fake), batch_size=100, flush_interval=0.2, close_on_exit=False)
    rec.record(event(1))
    deadline = time.monotonic() + 5
    while not fake.stored and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(fake.stored) == ["ev-1"]
    rec.close(timeout=5)


def test_unacked_batches_are_resent_with_the_same_bytes_after_a_failed_stream(serve):
    # Stream 1 commits its first batch but dies before acking it (the "commit outcome
    # unknown" case), stream 2 acks everything.
    def script(stream, batch):
        if stream == 1:
            fake.ack(batch)  # stored...
            return "fail"    # ...but never acked
        return "ack"
    fake = FakeCollector(script)
    rec = Recorder(serve(fake), batch_size=5, flush_interval=0.05, backoff_initial=0.05,
                   close_on_exit=False)
    for i in range(20):
        rec.record(event(i))
    assert rec.flush(timeout=10)
    stats = rec.stats()
    assert sorted(fake.stored) == sorted(f"ev-{i}" for i in range(20))
    assert stats.accepted + stats.duplicates == 20 and stats.duplicates >= 5
    assert stats.stream_failures >= 1 and stats.batches_resent >= 1
    assert "UNAVAILABLE" in stats.last_error
    first = {seq: ids for n, seq, ids in fake.received if n == 1}
    later = {seq: ids for n, seq, ids in fake.received if n > 1}
    for seq, ids in first.items():
        assert later[seq] == ids  # the same sequence and event ids
    rec.close(timeout=5)


def test_no_ack_within_ack_timeout_resends_on_a_new_stream(serve):
    fake = FakeCollector(lambda stream, batch: "hold" if stream == 1 else "ack")
    rec = Recorder(serve(fake), batch_size=2, flush_interval=0.05, ack_timeout=0.5,
                   backoff_initial=0.05, close_on_exit=False)
    for i in range(4):
        rec.record(event(i))
    assert rec.flush(timeout=10)
    assert "no ack within" in rec.stats().last_error
    assert sorted(fake.stored) == [f"ev-{i}" for i in range(4)]
    rec.close(timeout=5)


def test_rejections_reach_the_callback_and_the_counters(serve):
    seen = []
    rec = Recorder(serve(FakeCollector()), flush_interval=0.05, on_rejected=seen.append,
                   close_on_exit=False)
    rec.record(event(1))
    rec.record(event(2, name="bad"))
    assert rec.flush(timeout=10)
    assert [(r.event_id, r.field) for r in seen] == [("ev-2", "tags.feature")]
    assert (rec.stats().accepted, rec.stats().rejected) == (1, 1)
    rec.close(timeout=5)


def test_close_delivers_everything_recorded_and_ends_the_stream(serve):
    fake = FakeCollector()
    rec = Recorder(serve(fake), batch_size=500, flush_interval=60, close_on_exit=False)
    for i in range(7):
        rec.record(event(i))
    assert rec.close(timeout=10)  # the partial batch is sent at close, not after 60 s
    assert len(fake.stored) == 7


def test_a_full_buffer_with_block_policy_resumes_when_acks_free_room(serve):
    fake = FakeCollector()
    rec = Recorder(serve(fake), max_buffer=5, batch_size=5, on_full="block", block_timeout=10,
                   flush_interval=0.05, close_on_exit=False)
    for i in range(50):
        assert rec.record(event(i))
    assert rec.close(timeout=10)
    assert len(fake.stored) == 50 and rec.stats().dropped == 0


def test_the_api_key_goes_with_the_stream_as_a_bearer_token(serve, monkeypatch):
    fake = FakeCollector()
    monkeypatch.setenv("STEPLEDGER_API_KEY", "slk_from_env")
    rec = Recorder(serve(fake), flush_interval=0.05, close_on_exit=False)
    rec.record(event(1))
    assert rec.close(timeout=10)
    assert fake.metadata[0]["authorization"] == "Bearer slk_from_env"
    rec = Recorder(serve(fake), api_key="slk_arg", flush_interval=0.05, close_on_exit=False)
    rec.record(event(2))
    assert rec.close(timeout=10)
    assert fake.metadata[-1]["authorization"] == "Bearer slk_arg"


def test_asyncio_code_records_without_waiting_and_awaits_flush_and_close(serve):
    import asyncio
    from stepledger import RunContext, step
    fake = FakeCollector()

    async def agent(rec):
        async def tool(i):
            with step(f"tool-{i}", kind="tool_call", recorder=rec):
                await asyncio.sleep(0.01)
        with RunContext(feature="f", team="t", tenant="x", workload_class="interactive",
                        environment="production"):
            with step("planner", recorder=rec) as planner:
                await asyncio.gather(*(tool(i) for i in range(5)))
            rec.record(planner)  # a Step is recorded as its event: a duplicate, same bytes
        assert await rec.flush_async(timeout=10)
        return await rec.close_async(timeout=10)

    rec = Recorder(serve(fake), flush_interval=0.05, close_on_exit=False)
    assert asyncio.run(agent(rec))
    assert len(fake.stored) == 6
    assert (rec.stats().accepted, rec.stats().duplicates) == (6, 1)
