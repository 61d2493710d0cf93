"""E2E fixtures: a real stepledger-collector on a fresh database of the test PostgreSQL,
started through the project's one Python harness (tests/e2e/python/collector_harness.py), so
these tests follow however that harness starts collectors (flags, TLS, keys)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "..", "tests", "e2e", "python"))
import collector_harness as harness  # noqa: E402


def client_options(collector):
    """How a client reaches `collector`: its target, plus TLS credentials and an API key when
    the harness provides them (attributes `credentials`, a grpc.ChannelCredentials, and
    `api_key`), so these tests follow the harness when the collector stops being plaintext."""
    options = {"target": collector.target}
    for name in ("credentials", "api_key"):
        value = getattr(collector, name, None)
        if value is not None:
            options[name] = value
    return options


@pytest.fixture
def database():
    db = harness.FreshDatabase()
    yield db
    db.drop()


@pytest.fixture
def collector(database):
    c = harness.Collector(database.url)
    c.db = database
    started = [c]

    def restart_after_kill():
        """kill -9, then a new collector process on the same address and database."""
        started[-1].kill()
        started.append(harness.Collector(database.url, grpc_port=c.grpc_port))
        return started[-1]

    c.restart_after_kill = restart_after_kill
    c.client_options = client_options(c)
    yield c
    for process in started:
        process.stop()
