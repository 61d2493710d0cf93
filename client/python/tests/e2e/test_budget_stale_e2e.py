"""Budget answers while the database is away (docs/BUDGETS.md, "When the database is away").

A real collector reaches the test PostgreSQL through a small TCP link of this test's own; the
test cuts it (every connection dropped, new ones refused) while BudgetGuard keeps checking.
Within --budget-stale-after (5 s, the default) plus one refresh the answers say their counters
are stale and the $1 require_ack team cap fails closed (REQUIRE_ACK, its stale policy), never
ALLOW; the metrics count it. When the link comes back the next refresh makes them fresh again.
"""
import os
import re
import socket
import sys
import threading
import time
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from stepledger import ALLOW, REQUIRE_ACK, BudgetGuard, RunContext
from stepledger.v1 import budget_pb2

import collector_harness as harness  # on the path through conftest: the one collector harness

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_agent_e2e import TAGS, put_cap  # noqa: E402

STALE_AFTER_S = 5.0  # the collector's default --budget-stale-after
REFRESH_S = 1.0      # and --budget-refresh-interval
SLACK_S = 3.0        # a loaded 2-core machine: a refresh round trip, scheduling


class CuttableLink:
    """127.0.0.1:<port> -> upstream, byte for byte, until cut(); restore() listens again."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.port = harness.pick_port()
        self._conns = []
        self._lock = threading.Lock()
        self._listener = None
        self.restore()

    def restore(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        self._listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def metric(collector, name, labels=""):
    text = urllib.request.urlopen(
        f"http://127.0.0.1:{collector.metrics_port}/metrics", timeout=10).read().decode()
    m = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_a_collector_cut_off_from_its_database_fails_the_hard_cap_closed_then_recovers(database):
    parts = urlsplit(database.url)
    link = CuttableLink(parts.port or 5432)
    userinfo = parts.netloc.rpartition("@")[0]
    via_link = urlunsplit(parts._replace(
        netloc=f"{userinfo + '@' if userinfo else ''}127.0.0.1:{link.port}"))
    collector = harness.Collector(via_link)
    try:
        options = {"target": collector.target, "credentials": collector.credentials,
                   "api_key": collector.api_key}
        put_cap(options, 1_000_000_000)  # $1 a day, require_ack: stale policy by default too
        guard = BudgetGuard(**options, timeout=5)
        with RunContext(**TAGS):
            fresh = guard.check(0.01)
            assert fresh.checked and fresh.decision == ALLOW and not fresh.stale
            assert fresh.counters_as_of is not None and fresh.counters_age_s < STALE_AFTER_S

            link.cut()
            cut_at = time.monotonic()
            stale = None
            while time.monotonic() - cut_at < STALE_AFTER_S + REFRESH_S + SLACK_S:
                d = guard.check(0.01)
                assert d.checked  # the collector answers; only its database is away
                if d.stale:
                    stale = d
                    break
                # Fresh enough: the figures decide, and nothing has been spent.
                assert d.decision == ALLOW
                time.sleep(0.2)
            assert stale is not None, "no stale answer within the documented bound"
            # Not before the limit: the last read was at most one refresh before the cut.
            assert time.monotonic() - cut_at > STALE_AFTER_S - REFRESH_S
            assert stale.decision == REQUIRE_ACK and not stale.allowed
            assert stale.counters_age_s > STALE_AFTER_S
            (cap,) = stale.caps
            assert cap.stale_policy == budget_pb2.STALE_POLICY_REQUIRE_ACK
            assert cap.stale_policy_applied
            # Stays closed while the link is down.
            time.sleep(1.5)
            again = guard.check(0.01)
            assert again.stale and again.decision == REQUIRE_ACK
            assert again.counters_age_s > stale.counters_age_s
            assert metric(collector, "stepledger_budget_stale_answers_total",
                          '{policy="require_ack"}') >= 2
            assert metric(collector, "stepledger_budget_counters_age_seconds") > STALE_AFTER_S

            link.restore()
            back_at = time.monotonic()
            while True:
                d = guard.check(0.01)
                if not d.stale:
                    break
                assert d.decision == REQUIRE_ACK
                assert time.monotonic() - back_at < 15, "counters still stale after recovery"
                time.sleep(0.2)
            assert d.decision == ALLOW and d.counters_age_s < STALE_AFTER_S
    finally:
        collector.stop()
        link.cut()
