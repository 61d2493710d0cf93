"""The processes a fault scenario breaks: a private PostgreSQL cluster and collectors.

The cluster is started through deploy/local/pg.sh like every other private cluster, but
durable (fsync and synchronous_commit on, no --fast): a test that crashes PostgreSQL with
`stop -m immediate` must not lose commits to a setting that only tests use. Collectors come
from tests/e2e/python/collector_harness.py (the same process wrapper the e2e tests use).
"""
import os
import shutil
import subprocess
import tempfile
import time

import collector_harness as harness

SOURCE_DIR = harness.SOURCE_DIR
PG_SH = os.environ.get("STEPLEDGER_PG_SH") or os.path.join(SOURCE_DIR, "deploy/local/pg.sh")


def free_port():
    return harness.pick_port()


class PgCluster:
    """A cluster of its own in a fresh directory under /tmp; destroy() removes it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="stepledger-faults-pg.")
        self.port = free_port()
        self.start()
        self.url = subprocess.run(["bash", PG_SH, "url", self.dir, str(self.port)], check=True,
                                  capture_output=True, text=True).stdout.strip()

    def start(self, attempts=20):
        """Retried: after a crash the server may still be in recovery for a while."""
        for attempt in range(attempts):
            r = subprocess.run(["bash", PG_SH, "start", self.dir, str(self.port)],
                               capture_output=True, text=True)
            if r.returncode == 0:
                return
            if attempt == attempts - 1:
                raise RuntimeError(f"pg.sh start failed: {r.stderr[-2000:]}")
            time.sleep(1)

    def stop(self):
        subprocess.run(["bash", PG_SH, "stop", self.dir], check=True, capture_output=True,
                       text=True)

    def stop_immediate(self):
        """A crash: no shutdown checkpoint, every backend killed at once."""
        subprocess.run(["bash", PG_SH, "stop", self.dir, "--immediate"], check=True,
                       capture_output=True, text=True)

    def running(self):
        status = subprocess.run(["bash", PG_SH, "status", self.dir], capture_output=True)
        return status.returncode == 0

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "postgres.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def destroy(self):
        subprocess.run(["bash", PG_SH, "destroy", self.dir], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_database(self, name):
        harness.psql(self.url, f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name

    def drop_database(self, name):
        harness.psql(self.url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def query(url, sql, retries=30):
    """psql -At, retried for a while: the cluster may be coming back from a crash."""
    for attempt in range(retries):
        try:
            return harness.psql(url, sql)
        except subprocess.CalledProcessError:
            if attempt == retries - 1:
                raise
            time.sleep(1)
    return ""


class Collector:
    """A collector that can be killed and restarted on the same gRPC port."""

    def __init__(self, database_url, extra_flags=()):
        self.database_url = database_url
        self.extra_flags = tuple(extra_flags)
        self.grpc_port = free_port()
        self.process = None
        self.start()

    def start(self):
        self.process = harness.Collector(self.database_url, self.extra_flags,
                                         grpc_port=self.grpc_port)

    @property
    def target(self):
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def pid(self):
        return self.process.process.pid

    @property
    def log_path(self):
        return self.process.log_path

    def kill9(self):
        self.process.kill()

    def stop(self):
        self.process.stop()

    def alive(self):
        return self.process.process.poll() is None

    def rss_bytes(self):
        return self.process.rss_bytes()

    def open_fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

