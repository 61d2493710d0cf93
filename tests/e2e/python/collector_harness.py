"""A real stepledger-collector process and a fresh database for Python e2e tests.

The C++ e2e tests have tests/fakes/collector_process.h; this is the same for tests that need
what only a raw client can send (bytes no protobuf library would serialize). Reads the same
environment as the C++ tiers: STEPLEDGER_TEST_DATABASE_URL (set by deploy/local/test.sh) and
STEPLEDGER_COLLECTOR_BIN (set by tests/e2e/CMakeLists.txt).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def api_modules():
    """Generates and imports the Python messages of proto/stepledger/v1 (steps, collector and
    budget; tests/faults imports budget_pb2 from the same place)."""
    out = tempfile.mkdtemp(prefix="stepledger-pb2-")
    proto_dir = os.path.join(SOURCE_DIR, "proto")
    subprocess.run(["protoc", f"--proto_path={proto_dir}", f"--python_out={out}",
                    "stepledger/v1/steps.proto", "stepledger/v1/collector.proto",
                    "stepledger/v1/budget.proto"], check=True)
    sys.path.insert(0, out)
    from stepledger.v1 import steps_pb2  # noqa: E402  (generated just above)
    return steps_pb2


def pick_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql):
    return subprocess.run(["psql", url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class FreshDatabase:
    """A database of its own on the test cluster, dropped at the end."""

    def __init__(self):
        admin = os.environ["STEPLEDGER_TEST_DATABASE_URL"]
        self.name = "e2e_py_" + uuid.uuid4().hex[:12]
        parts = urlsplit(admin)
        self.admin = admin
        self.url = urlunsplit(parts._replace(path="/" + self.name))
        psql(admin, f"CREATE DATABASE {self.name}")

    def query(self, sql):
        return psql(self.url, sql)

    def drop(self):
        psql(self.admin, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


class Collector:
    """stepledger-collector on loopback ports of its own; stopped with SIGTERM, then SIGKILL.

    grpc_port: listen on this port instead of a fresh one (a restart on the same address, as
    a client that keeps its target sees it after kill()).
    """

    def __init__(self, database_url, extra_flags=(), grpc_port=None):
        self.grpc_port = grpc_port or pick_port()
        self.metrics_port = pick_port()
        self.log_path = f"/tmp/stepledger-e2e-py-{os.getpid()}-{self.grpc_port}.log"
        args = [os.environ["STEPLEDGER_COLLECTOR_BIN"], f"--database-url={database_url}",
                f"--grpc-listen=127.0.0.1:{self.grpc_port}",
                f"--metrics-listen=127.0.0.1:{self.metrics_port}",
                "--otlp-http-listen=", "--insecure", "--insecure-no-auth", *extra_flags]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited with {self.process.returncode}; see "
                                   f"{self.log_path}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.grpc_port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"collector did not listen within 60 s; see {self.log_path}")

    @property
    def target(self):
        return f"127.0.0.1:{self.grpc_port}"

    def rss_bytes(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def kill(self):
        """SIGKILL, as a crash: no drain, no goodbye to the clients."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
