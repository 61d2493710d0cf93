"""A PostgreSQL primary and a synchronous streaming standby, for the failover e2e tests.

Both are clusters of deploy/local/pg.sh (which also runs them as the postgres user when the
tests run as root); the standby is a pg_basebackup of the primary. The primary waits for the
standby's confirmation before a COMMIT returns (synchronous_standby_names = '*',
synchronous_commit = on), which is what "nothing acked is lost" rests on. fsync is off: the
tests crash processes, not the machine, so the OS cache survives and fsync only costs time.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

PG_BIN = os.environ.get("STEPLEDGER_PG_BIN", "/usr/lib/postgresql/15/bin")
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
PG_SH = os.environ.get("STEPLEDGER_PG_SH", os.path.join(SOURCE_DIR, "deploy/local/pg.sh"))


def as_owner(args, **kwargs):
    """Runs a server binary as the clusters' owner (postgres when we are root)."""
    if os.getuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, cwd="/", check=True, capture_output=True, text=True, **kwargs)


def psql(port, sql, database="stepledger"):
    return subprocess.run(
        [f"{PG_BIN}/psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
         "-U", "stepledger", "-d", database, "-c", sql],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def pick_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        self.port = pick_port()

    def pg_sh(self, *args):
        subprocess.run(["bash", PG_SH, *args], check=True, capture_output=True, text=True,
                       timeout=180)

    def pids(self):
        """The postmaster and its children (the backends, walsender, checkpointer...)."""
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == postmaster:
                pids.append(int(entry))
        return pids

    def freeze(self):
        """SIGSTOP to every process of the cluster: it vanishes without closing a connection,
        while the kernel still accepts and ACKs its TCP traffic (as a hung host would)."""
        self.frozen = self.pids()
        for pid in self.frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in getattr(self, "frozen", []):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen = []


class PrimaryStandbyPair:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="stepledger-ha-")
        os.chmod(self.root, 0o755)  # the postgres user must reach the clusters inside
        self.primary = Cluster(self.root, "primary")
        self.standby = Cluster(self.root, "standby")
        self.primary.pg_sh("start", self.primary.dir, str(self.primary.port))
        psql(self.primary.port, "ALTER SYSTEM SET fsync = off", "postgres")
        psql(self.primary.port, "ALTER SYSTEM SET synchronous_commit = on", "postgres")
        psql(self.primary.port, "ALTER SYSTEM SET synchronous_standby_names = '*'", "postgres")
        psql(self.primary.port, "SELECT pg_reload_conf()", "postgres")
        # The standby's folder as pg.sh would make it, then a base backup into it; -R writes
        # standby.signal and primary_conninfo.
        os.makedirs(self.standby.dir)
        open(os.path.join(self.standby.dir, ".stepledger-pg"), "w").close()
        if os.getuid() == 0:
            shutil.chown(self.standby.dir, "postgres", "postgres")
        os.chmod(self.standby.dir, 0o700)
        as_owner([f"{PG_BIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port),
                  "-U", "stepledger", "-D", os.path.join(self.standby.dir, "data"), "-R",
                  "-X", "stream", "-c", "fast"], timeout=120)
        # Promoted, the standby must not wait for a standby of its own.
        auto = os.path.join(self.standby.dir, "data", "postgresql.auto.conf")
        with open(auto) as f:
            lines = [l for l in f if not l.startswith("synchronous_standby_names")]
        with open(auto, "w") as f:
            f.writelines(lines)
        self.standby.pg_sh("start", self.standby.dir, str(self.standby.port))
        self.wait_sync()

    def wait_sync(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = psql(self.primary.port,
                         "SELECT string_agg(sync_state, ',') FROM pg_stat_replication", "postgres")
            if state == "sync":
                return
            time.sleep(0.2)
        raise RuntimeError(f"the standby did not become synchronous: {state!r}")

    def url(self):
        """The multi-host URL a collector is given: the primary first, then the standby."""
        return (f"postgresql://stepledger@127.0.0.1:{self.primary.port},"
                f"127.0.0.1:{self.standby.port}/stepledger?target_session_attrs=read-write")

    def promote_standby(self):
        as_owner([f"{PG_BIN}/pg_ctl", "promote", "-w", "-t", "60", "-D",
                  os.path.join(self.standby.dir, "data")], timeout=90)

    def destroy(self):
        self.primary.thaw()
        for cluster in (self.primary, self.standby):
            try:
                subprocess.run(["bash", PG_SH, "stop", cluster.dir, "--immediate"],
                               capture_output=True, timeout=120)
                subprocess.run(["bash", PG_SH, "destroy", cluster.dir], capture_output=True,
                               timeout=120)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.root, ignore_errors=True)
