"""Issue 15: one client's bad input or odd pace never loses data or hurts other clients.

Each test starts a real collector on a fresh database and talks to it as raw bytes over gRPC
(channel.stream_stream without serializers), because the hostile inputs here are messages no
protobuf library would serialize: strings that are not UTF-8, Timestamps outside protobuf's
range, truncated messages.
"""
import asyncio
import statistics
import threading
import time
import uuid

import grpc
import pytest

import collector_harness as harness

pb = harness.api_modules()
METHOD = "/stepledger.v1.Collector/StreamSteps"


def valid_event(event_id, run="run-1", name="plan", step_id=None):
    e = pb.StepEvent(event_id=event_id, step_id=step_id or "s-" + event_id, name=name,
                     cost_nano_usd=1000)
    e.tags.feature = "inbox-triage"
    e.tags.team = "mail-ai"
    e.tags.tenant = "acme"
    e.tags.workload_class = pb.WORKLOAD_CLASS_INTERACTIVE
    e.tags.environment = pb.ENVIRONMENT_PRODUCTION
    e.tags.parent_run_id = run
    e.started_at.GetCurrentTime()
    return e


def batch_bytes(sequence, events):
    return pb.StepBatch(sequence=sequence, events=events).SerializeToString()


def padded(prefix, placeholder):
    """`prefix` padded with '_' to the placeholder's length."""
    return prefix + b"_" * (len(placeholder) - len(prefix))


def patch(data, placeholder, prefix):
    """Swaps a placeholder for bytes of the same length: the message framing stays valid."""
    assert data.count(placeholder) == 1
    return data.replace(placeholder, padded(prefix, placeholder))


def stream(target, requests, timeout=60):
    """Sends `requests` (bytes) on one StreamSteps call; returns (acks, final status code)."""
    with harness.channel(target) as channel:
        call = channel.stream_stream(METHOD)(iter(requests), timeout=timeout)
        acks = []
        try:
            for raw in call:
                ack = pb.BatchAck()
                ack.ParseFromString(raw)
                acks.append(ack)
        except grpc.RpcError as e:
            return acks, e.code(), e.details()
        return acks, grpc.StatusCode.OK, ""


@pytest.fixture
def collector():
    db = harness.FreshDatabase()
    c = harness.Collector(db.url)
    c.db = db
    yield c
    c.stop()
    db.drop()


def test_non_utf8_events_are_quarantined_by_field_and_the_stream_goes_on(collector):
    events = [valid_event("ok-1"), valid_event("PLACEHOLDER_ID1", name="PLACEHOLDERNAME"),
              valid_event("ok-2")]
    events.append(valid_event("bad-team"))
    events[3].tags.team = "PLACEHOLDERTEAM"
    events.append(valid_event("bad-attr"))
    events[4].attributes["k"] = "PLACEHOLDERATTR"
    first = batch_bytes(1, events)
    first = patch(first, b"PLACEHOLDERNAME", b"plan\xff\xfe")
    first = patch(first, b"PLACEHOLDERTEAM", b"\xff\xfe")
    first = patch(first, b"PLACEHOLDERATTR", b"v\xc0\xaf")
    second = batch_bytes(2, [valid_event("ok-3")])
    acks, code, details = stream(collector.target, [first, second])
    assert code == grpc.StatusCode.OK, details
    by_sequence = {a.sequence: a for a in acks}
    assert set(by_sequence) == {1, 2}, "every batch is acked, the later one included"
    assert by_sequence[1].accepted == 2 and by_sequence[2].accepted == 1
    fields = {r.event_id: r.field for r in by_sequence[1].rejected}
    assert fields == {"PLACEHOLDER_ID1": "name", "bad-team": "tags.team",
                      "bad-attr": "attributes.k"}
    # Quarantined with the bytes kept, escaped; the valid events are in the ledger.
    assert collector.db.query("SELECT count(*) FROM steps") == "3"
    assert collector.db.query(
        "SELECT event->>'name' FROM quarantine WHERE event_id = 'PLACEHOLDER_ID1'") == \
        "plan\\xff\\xfe" + "_" * 9
    assert collector.db.query(
        "SELECT event->'tags'->>'team' FROM quarantine WHERE event_id = 'bad-team'") == \
        "\\xff\\xfe" + "_" * 13


def test_a_non_utf8_event_id_is_echoed_escaped(collector):
    data = patch(batch_bytes(1, [valid_event("PLACEHOLDERX", step_id="s-1")]), b"PLACEHOLDERX", b"id\xff\xfe")
    acks, code, details = stream(collector.target, [data])
    assert code == grpc.StatusCode.OK, details
    assert [(r.event_id, r.field) for r in acks[0].rejected] == [("id\\xff\\xfe________", "event_id")]
    assert collector.db.query("SELECT event_id FROM quarantine") == "id\\xff\\xfe________"


def test_a_message_that_is_no_batch_ends_the_stream_with_invalid_argument(collector):
    good = batch_bytes(1, [valid_event("before")])
    truncated = batch_bytes(2, [valid_event("cut")])[:-5]
    acks, code, details = stream(collector.target, [good, truncated])
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid StepBatch" in details
    # The batch before it was committed and acked before the stream ended.
    assert [a.sequence for a in acks] == [1]
    assert collector.db.query("SELECT count(*) FROM steps") == "1"


@pytest.mark.parametrize("seconds,nanos", [(9_400_000_000_000, 0), (-220_000_000_000, 0),
                                           (2**63 - 1, 0), (1_700_000_000, -1),
                                           (1_700_000_000, 1_000_000_000)])
def test_a_timestamp_outside_protobufs_range_is_quarantined_not_an_error(collector, seconds,
                                                                         nanos):
    bad = valid_event("far")
    bad.started_at.seconds = seconds
    bad.started_at.nanos = nanos
    acks, code, details = stream(collector.target,
                                 [batch_bytes(1, [bad, valid_event("fine")])])
    assert code == grpc.StatusCode.OK, details
    assert acks[0].accepted == 1
    assert [(r.event_id, r.field) for r in acks[0].rejected] == [("far", "started_at")]
    # Placed at the receive time (today), with the value as sent kept in the payload.
    assert collector.db.query(
        "SELECT occurred_at > now() - interval '1 hour' FROM quarantine") == "t"
    assert collector.db.query("SELECT event->'startedAt'->>'seconds' FROM quarantine") == \
        str(seconds)


def run_normal_client(target, seconds, batch_size=200, inflight=4):
    """Streams unique valid batches for `seconds`; returns (events acked/s, errors, latencies)."""
    prefix = uuid.uuid4().hex[:8]
    batches = [batch_bytes(i, [valid_event(f"{prefix}-{i}-{k}", run=f"run-{prefix}-{i}")
                               for k in range(batch_size)]) for i in range(1, 2000)]
    sent_at = {}
    window = threading.Semaphore(inflight)
    stop = time.monotonic() + seconds

    def requests():
        for i, data in enumerate(batches, start=1):
            window.acquire()
            if time.monotonic() > stop:
                return
            sent_at[i] = time.monotonic()
            yield data

    latencies, acked, errors = [], 0, 0
    start = time.monotonic()
    with harness.channel(target) as channel:
        call = channel.stream_stream(METHOD)(requests(), timeout=seconds + 60)
        try:
            for raw in call:
                ack = pb.BatchAck()
                ack.ParseFromString(raw)
                latencies.append(time.monotonic() - sent_at[ack.sequence])
                if ack.accepted != batch_size or ack.rejected:
                    errors += 1
                acked += ack.accepted
                window.release()
        except grpc.RpcError:
            errors += 1
    return acked / (time.monotonic() - start), errors, latencies


def test_a_poison_client_beside_a_normal_one_costs_the_normal_one_nothing(collector):
    alone_rate, alone_errors, _ = run_normal_client(collector.target, 4)
    assert alone_errors == 0

    poison = [valid_event(f"poison-{k}") for k in range(1000)]
    for k, e in enumerate(poison):
        e.started_at.seconds = (9_400_000_000_000, -220_000_000_000, 2**63 - 1)[k % 3]
    poison_batch = batch_bytes(1, poison)
    stop = threading.Event()
    poison_results = []

    def poison_client():
        while not stop.is_set():
            acks, code, _ = stream(collector.target, [poison_batch])
            poison_results.append((code, [len(a.rejected) for a in acks]))
            time.sleep(0.05)

    thread = threading.Thread(target=poison_client)
    thread.start()
    try:
        rate, errors, _ = run_normal_client(collector.target, 4)
    finally:
        stop.set()
        thread.join()
    assert errors == 0, "the normal client saw failed streams or short acks"
    assert poison_results and all(code == grpc.StatusCode.OK and rejected == [1000]
                                  for code, rejected in poison_results)
    # Throughput on a noisy 2-core machine: the issue measured a 7.7x drop; allow 2x.
    assert rate >= 0.5 * alone_rate, (rate, alone_rate)
    # Re-sent poison is quarantined once per distinct event, never twice.
    assert collector.db.query("SELECT count(*) FROM quarantine") == "1000"


def metric(collector, name):
    """One unlabelled series of the collector's /metrics."""
    import urllib.request
    body = urllib.request.urlopen(f"http://127.0.0.1:{collector.metrics_port}/metrics",
                                  timeout=10).read().decode()
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# The documented bound (docs/RELIABILITY.md, "Flow control and the memory bound"): write queue
# (about 340 MiB at its limit) + undelivered acks (64 MiB) + gRPC's quota (128 MiB), about
# 600 MiB, with margin. Before issue 15 the memory grew without limit (1.34 GB and climbing).
# Seen on the loaded 2-core machine: 142-263 MiB above the start.
NON_READING_STREAMS = 2000
NON_READING_RSS_BOUND = 768 * 1024 * 1024


def test_non_reading_streams_keep_memory_bounded_and_cost_a_normal_client_nothing(collector):
    _, errors, baseline = run_normal_client(collector.target, 4)
    assert errors == 0
    rss_before = collector.rss_bytes()

    # Every event lacks its tags: a 1,000-event batch whose ack lists 1,000 rejections.
    junk = [pb.StepEvent(event_id=f"junk-{k}", step_id=f"j-{k}") for k in range(1000)]
    for e in junk:
        e.tags.environment = pb.ENVIRONMENT_PRODUCTION
    junk_batch = batch_bytes(1, junk)
    loop = asyncio.new_event_loop()
    channels, calls = [], []

    async def open_streams():
        for c in range(NON_READING_STREAMS // 100):  # 100 streams per connection at most
            channels.append(harness.aio_channel(
                collector.target, options=[("grpc.use_local_subchannel_pool", 1)]))
        for i in range(NON_READING_STREAMS):
            call = channels[i % len(channels)].stream_stream(METHOD)()
            calls.append(call)

        async def flood(call):
            # Writes until flow control stops them; never reads an ack.
            for _ in range(20):
                try:
                    await asyncio.wait_for(call.write(junk_batch), timeout=2)
                except (asyncio.TimeoutError, grpc.aio.AioRpcError, asyncio.CancelledError):
                    return
        await asyncio.gather(*(flood(c) for c in calls), return_exceptions=True)

    flooding = threading.Thread(target=lambda: loop.run_until_complete(open_streams()))
    flooding.start()
    try:
        # Let every stream get its batches in and the write queue drain, watching memory.
        peak = 0
        deadline = time.monotonic() + 180
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            time.sleep(1)
            peak = max(peak, collector.rss_bytes())
            quiet = quiet + 1 if metric(collector, "stepledger_write_queue_events") == 0 else 0
        flooding.join(timeout=120)
        _, errors, during = run_normal_client(collector.target, 4)
        peak = max(peak, collector.rss_bytes())
        unsent = metric(collector, "stepledger_unsent_ack_bytes")
    finally:
        async def close():
            for call in calls:
                call.cancel()
            for ch in channels:
                await ch.close()
        loop.run_until_complete(close())
        loop.close()

    print(f"rss before {rss_before / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB; "
          f"normal p50/p99 before {percentile(baseline, .5) * 1e3:.1f}/"
          f"{percentile(baseline, .99) * 1e3:.1f} ms, during {percentile(during, .5) * 1e3:.1f}/"
          f"{percentile(during, .99) * 1e3:.1f} ms; unsent acks {unsent / 2**20:.1f} MiB")
    assert errors == 0, "the normal client saw failed streams or short acks"
    assert peak - rss_before <= NON_READING_RSS_BOUND
    # The collector holds acks only up to its soft bound plus one ack per stream.
    assert unsent <= 64 * 2**20 + NON_READING_STREAMS * 128 * 1024
    # "Within its normal range": the median as before (2x for a noisy 2-core machine) and p99
    # at most 5x before or 250 ms, whichever is larger.
    assert percentile(during, .5) <= 2 * percentile(baseline, .5) + 0.01
    assert percentile(during, .99) <= max(5 * percentile(baseline, .99), 0.25)
