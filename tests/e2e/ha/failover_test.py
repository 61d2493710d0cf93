"""Issue 21, item 2: PostgreSQL failover under ingest, nothing acked lost (docs/OPERATING.md,
"PostgreSQL failover").

A primary with a synchronous standby; one collector given the multi-host URL
postgresql://primary,standby/stepledger?target_session_attrs=read-write; senders streaming all
along. The primary goes away, the standby is promoted, ingest goes on through the same
collector, and the new primary holds every acked event exactly once, with spend counters equal
to its ledger.

- clean: the primary is stopped with -m immediate (its connections are closed: the collector
  notices at once).
- silent: every process of the primary is SIGSTOPped. Its kernel still ACKs TCP, so no TCP
  timeout fires; the collector's liveness watchdog (--database-liveness-timeout) must notice.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import collector_harness as harness  # noqa: E402
import ingest_oracle as oracle  # noqa: E402
from pg_pair import PrimaryStandbyPair, psql  # noqa: E402

LIVENESS_TIMEOUT_S = 3
# The watchdog probes every second (pg_liveness.h): detection within 1 s + the timeout.
DETECTION_BOUND_S = 1 + LIVENESS_TIMEOUT_S
# A reconnect then tries the silent primary first, for connect_timeout (pg_connection.h).
CONNECT_TIMEOUT_S = 5


@pytest.fixture
def pair():
    p = PrimaryStandbyPair()
    yield p
    p.destroy()


def run_failover(pair, lose_primary, extra_flags=()):
    collector = harness.Collector(
        pair.url(), extra_flags=(f"--database-liveness-timeout={LIVENESS_TIMEOUT_S}s",
                                 *extra_flags))
    try:
        senders = oracle.start_senders(collector.target, 3, "f")
        time.sleep(3)
        before = sum(len(s.acked) for s in senders)
        assert before > 0, "nothing was acked before the failover"
        lost_at = time.monotonic()
        lose_primary()
        time.sleep(1)
        pair.promote_standby()
        promoted_at = time.monotonic()
        # Ingest must resume through the same collector, without a restart.
        deadline = promoted_at + 45
        resumed_at = None
        while time.monotonic() < deadline and resumed_at is None:
            after = [t for s in senders for t in s.ack_times if t > promoted_at]
            resumed_at = min(after) if after else None
            time.sleep(0.1)
        assert resumed_at is not None, f"no ack within 45 s of the promotion; {collector.log_path}"
        time.sleep(2)
        oracle.stop_senders(senders)
        total = oracle.check_ledger(senders, lambda sql: psql(pair.standby.port, sql))
        with open(collector.log_path) as f:
            log = f.read()
        # The log says where the collector is connected now.
        assert f"msg=\"database connected\" server=127.0.0.1:{pair.standby.port}" in log, log
        print(f"\nevents acked: {total}; acked before the loss: {before}; "
              f"first ack after promotion: {resumed_at - promoted_at:.2f} s "
              f"(primary lost {promoted_at - lost_at:.2f} s before the promotion); "
              f"broken streams: {sum(len(s.failures) for s in senders)}")
        return log, resumed_at - promoted_at
    finally:
        collector.stop()


def test_clean_failover_to_a_synchronous_standby_loses_no_acked_event(pair):
    run_failover(pair, lambda: pair.primary.pg_sh("stop", pair.primary.dir, "--immediate"))


def test_silent_primary_is_detected_within_the_liveness_bound_and_failed_over(pair):
    log, resumed_after = run_failover(pair, pair.primary.freeze)
    assert "database server did not answer" in log, log
    # Detected within the bound, then a reconnect waits connect_timeout on the silent host
    # before trying the promoted one; one second of slack for a loaded machine per step.
    bound = DETECTION_BOUND_S + 2 * CONNECT_TIMEOUT_S + 5
    assert resumed_after < bound, f"ingest resumed {resumed_after:.1f} s after promotion"
