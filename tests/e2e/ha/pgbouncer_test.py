"""Issue 21, item 3: the collector through pgbouncer in transaction pooling mode
(docs/OPERATING.md, "Connection poolers").

pgbouncer sits in front of a fresh database on the test cluster with fewer server connections
than the collector opens, so consecutive transactions of one collector connection really run
in different server sessions: anything the collector kept in a session (a temp table, a
session advisory lock, a SET, a prepared statement) would break here. Through it: migrations
of an empty database, a cap, ingest, a budget check that sees the ingested spend, a rollup
(advisory-lock leadership) and a showback report, each compared with the ledger read directly.
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import collector_harness as harness  # noqa: E402
import ingest_oracle as oracle  # noqa: E402

PGBOUNCER = os.environ.get("STEPLEDGER_PGBOUNCER_BIN", "/usr/sbin/pgbouncer")
CLI = os.environ.get("STEPLEDGER_CLI_BIN")
POOL_SIZE = 3  # server connections per database; the collector opens more client connections


class PgBouncer:
    def __init__(self, pg_port):
        self.dir = tempfile.mkdtemp(prefix="stepledger-pgbouncer-")
        self.port = harness.pick_port()
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            f.write('"stepledger" ""\n')
        with open(os.path.join(self.dir, "pgbouncer.ini"), "w") as f:
            f.write(f"""[databases]
* = host=127.0.0.1 port={pg_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
admin_users = stepledger
auth_file = {self.dir}/userlist.txt
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 200
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
""")
        args = [PGBOUNCER, os.path.join(self.dir, "pgbouncer.ini")]
        if os.getuid() == 0:  # pgbouncer refuses to run as root
            os.chmod(self.dir, 0o755)
            for name in os.listdir(self.dir):
                shutil.chown(os.path.join(self.dir, name), "postgres", "postgres")
            shutil.chown(self.dir, "postgres", "postgres")
            args = ["runuser", "-u", "postgres", "--", *args]
        self.process = subprocess.Popen(args, cwd="/", stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"pgbouncer exited; see {self.dir}/pgbouncer.log"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("pgbouncer did not listen within 30 s")

    def log(self):
        with open(os.path.join(self.dir, "pgbouncer.log")) as f:
            return f.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pooled():
    assert os.path.exists(PGBOUNCER), f"{PGBOUNCER} missing (Debian package pgbouncer: make deps)"
    assert CLI, "STEPLEDGER_CLI_BIN is not set (tests/e2e/ha/CMakeLists.txt sets it)"
    db = harness.FreshDatabase()
    bouncer = PgBouncer(urlsplit(db.admin).port)
    url = f"postgresql://stepledger@127.0.0.1:{bouncer.port}/{db.name}"
    collector = harness.Collector(url)
    yield db, bouncer, collector
    collector.stop()
    bouncer.stop()
    db.drop()


def cli(collector, *args, ok=(0,)):
    # The harness's CA and admin key, never a key of the caller's own environment.
    env = harness.client_env(
        {k: v for k, v in os.environ.items() if not k.startswith("STEPLEDGER_API_KEY")})
    r = subprocess.run([CLI, "--target", collector.target, *args], capture_output=True,
                       text=True, timeout=120, env=env)
    assert r.returncode in ok, f"stepledger {' '.join(args)}: exit {r.returncode}\n{r.stderr}"
    return r.stdout


def test_ingest_checks_rollup_and_report_work_through_pgbouncer_in_transaction_mode(pooled):
    db, bouncer, collector = pooled
    cli(collector, "budget", "set", "--id", "t-mail-ai", "--scope", "team", "--key", "mail-ai",
        "--period", "daily", "--limit-usd", "0.001", "--owner", "lead", "--action",
        "require_ack", "--signed-off-by", "finance")

    senders = oracle.start_senders(collector.target, 3, "p")
    time.sleep(4)
    oracle.stop_senders(senders)
    total = oracle.check_ledger(senders, db.query)
    assert total > 300, f"only {total} events acked in 4 s through pgbouncer"

    # The check sees this replica's committed spend (counters updated at COMMIT, caps read by
    # the refresh through the pooler): spent equals the ledger's, so the cap requires an ack.
    spent_mail_ai = int(db.query("SELECT sum(cost_nano_usd) FROM steps "
                                 "WHERE charged_team = 'mail-ai'"))
    time.sleep(2)  # one refresh interval and a margin: the cap is loaded
    out = cli(collector, "budget", "check", "--feature", "inbox-triage", "--team", "mail-ai",
              "--tenant", "tenant-1", "--workload-class", "interactive", "--env", "production",
              "--run", "r-check", "--estimate-usd", "0.000001", "--json", ok=(2,))
    check = json.loads(out)
    caps = [c for c in check["caps"] if c.get("capId", c.get("cap_id")) == "t-mail-ai"]
    assert caps, out
    spent = int(caps[0].get("spentNanoUsd", caps[0].get("spent_nano_usd", -1)))
    assert spent == spent_mail_ai, out

    # Rollup (one replica at a time, by an advisory lock) and the report built from it.
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    cli(collector, "rollup", "--from", today, "--to", today)
    rolled = int(db.query("SELECT coalesce(sum(cost_nano_usd), 0) FROM rollup_daily"))
    ledger_total = int(db.query("SELECT sum(cost_nano_usd) FROM steps"))
    assert rolled == ledger_total
    report = json.loads(cli(collector, "report", "showback", "--from", today, "--to", today,
                            "--format", "json"))
    assert report["total_spend_nano_usd"] == ledger_total, json.dumps(report)[:2000]
    teams = {t["key"]: t for t in report["teams"]}
    assert teams["mail-ai"]["spend_nano_usd"] == spent_mail_ai
    assert teams["mail-ai"]["over_budget"], teams["mail-ai"]

    # And it was pgbouncer in transaction mode that carried all of it.
    pools = subprocess.run(
        ["psql", f"postgresql://stepledger@127.0.0.1:{bouncer.port}/pgbouncer", "-XAtq", "-c",
         "SHOW POOLS"], capture_output=True, text=True, check=True).stdout
    assert db.name in pools and "transaction" in pools, pools
    with open(collector.log_path) as f:
        log = f.read()
    assert "level=error" not in log, log

