"""A real stepledger-collector process and a fresh database for Python e2e tests.

The C++ e2e tests have tests/fakes/collector_process.h; this is the same for tests that need
what only a raw client can send (bytes no protobuf library would serialize). Reads the same
environment as the C++ tiers: STEPLEDGER_TEST_DATABASE_URL and STEPLEDGER_TEST_SECURITY_DIR
(set by deploy/local/test.sh) and STEPLEDGER_COLLECTOR_BIN (set by tests/e2e/CMakeLists.txt).

Every collector serves TLS with keys, as in production (docs/SECURITY.md, "Tests"): the test
CA, server certificate and admin key of STEPLEDGER_TEST_SECURITY_DIR, or, for the fault suite
and the soak run outside `make test`, a set made once per process the same way
(deploy/local/security.sh). channel() and aio_channel() are TLS channels that send the admin
key on every call; client_env() is the environment for the CLI and client processes.
"""
import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import grpc

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


_security_dir = None


def security_dir():
    """The folder holding ca.pem, server.pem, server.key and admin.key."""
    global _security_dir
    if _security_dir is None:
        folder = os.environ.get("STEPLEDGER_TEST_SECURITY_DIR", "")
        if not folder:
            parent = tempfile.mkdtemp(prefix="stepledger-py-security-")
            atexit.register(shutil.rmtree, parent, True)
            folder = os.path.join(parent, "security")
            subprocess.run(["bash", "-c", 'source "$0" && security_init "$1"',
                            os.path.join(SOURCE_DIR, "deploy", "local", "security.sh"), folder],
                           check=True)
        _security_dir = folder
    return _security_dir


def ca_cert_path():
    return os.path.join(security_dir(), "ca.pem")


def admin_key():
    with open(os.path.join(security_dir(), "admin.key"), encoding="ascii") as f:
        return f.read().strip()


def tls_credentials():
    """TLS trusting the test CA, no key (the Python client sends its key per call)."""
    with open(ca_cert_path(), "rb") as f:
        return grpc.ssl_channel_credentials(root_certificates=f.read())


def _keyed_credentials():
    return grpc.composite_channel_credentials(
        tls_credentials(), grpc.access_token_call_credentials(admin_key()))


def channel(target, options=None):
    """A TLS channel to a harness collector sending the admin key (authorization: Bearer)."""
    return grpc.secure_channel(target, _keyed_credentials(), options=options)


def aio_channel(target, options=None):
    """channel() for grpc.aio."""
    return grpc.aio.secure_channel(target, _keyed_credentials(), options=options)


def client_env(base=None):
    """`base` (default os.environ) plus the CA and the admin key, as the CLI and the Python
    client read them (STEPLEDGER_CA_CERT, STEPLEDGER_API_KEY)."""
    env = dict(os.environ if base is None else base)
    env.update(STEPLEDGER_CA_CERT=ca_cert_path(), STEPLEDGER_API_KEY=admin_key())
    return env


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
    """stepledger-collector on loopback ports of its own, serving TLS with keys; stopped with
    SIGTERM, then SIGKILL.

    grpc_port: listen on this port instead of a fresh one (a restart on the same address, as
    a client that keeps its target sees it after kill()).
    How a client reaches it: `credentials` (TLS trusting the test CA), `api_key` (the admin
    key, bootstrapped into the database at the first start), `ca_cert_path`.
    """

    def __init__(self, database_url, extra_flags=(), grpc_port=None):
        self.grpc_port = grpc_port or pick_port()
        self.metrics_port = pick_port()
        self.log_path = f"/tmp/stepledger-e2e-py-{os.getpid()}-{self.grpc_port}.log"
        args = [os.environ["STEPLEDGER_COLLECTOR_BIN"], f"--database-url={database_url}",
                f"--grpc-listen=127.0.0.1:{self.grpc_port}",
                f"--metrics-listen=127.0.0.1:{self.metrics_port}",
                "--otlp-http-listen=",
                f"--tls-cert={os.path.join(security_dir(), 'server.pem')}",
                f"--tls-key={os.path.join(security_dir(), 'server.key')}",
                f"--bootstrap-admin-key-file={os.path.join(security_dir(), 'admin.key')}",
                *extra_flags]
        self.ca_cert_path = ca_cert_path()
        self.api_key = admin_key()
        self.credentials = tls_credentials()
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
