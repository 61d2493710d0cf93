"""Disk full for the WAL: pg_wal of a cluster of its own moved onto a small tmpfs (the layout
`initdb --waldir` makes: pg_wal a symlink), then ingest until PostgreSQL fails to write WAL
("No space left on device", a PANIC), then the tmpfs grown and the cluster back.

Mounting needs root (CAP_SYS_ADMIN); without it the scenario is reported as skipped, never
as passed.
"""
import os
import shutil
import subprocess
import time

import cluster
from scenario import run_scenario, skipped

NAME = "wal_disk_full"
MB = 1024 * 1024
HEADROOM_MB = 48  # WAL the load may write before the disk is full (segments are 16 MB)


def _du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def _move_wal_to_tmpfs(pg, mnt):
    data = os.path.join(pg.dir, "data")
    wal = os.path.join(data, "pg_wal")
    size_mb = _du(wal) // MB + HEADROOM_MB
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=700", "tmpfs", mnt],
                   check=True, capture_output=True, text=True)
    subprocess.run(["cp", "-a", wal, os.path.join(mnt, "pg_wal")], check=True)
    shutil.rmtree(wal)
    os.symlink(os.path.join(mnt, "pg_wal"), wal)
    subprocess.run(["chown", "-R", "postgres:postgres", mnt], check=True)
    subprocess.run(["chown", "-h", "postgres:postgres", wal], check=True)
    return size_mb


def _body(pg, mnt, size_mb):
    def body(run):
        deadline = time.monotonic() + 180
        full = False
        while time.monotonic() < deadline and not full:
            full = "No space left on device" in pg.log_text()
            time.sleep(0.2)
        if not full:
            run.problems.append(f"the WAL never filled its {size_mb} MB within 180 s")
            return {"wal_tmpfs_mb": size_mb}
        t_full = time.monotonic()
        acks = run.gen.acks
        time.sleep(3)  # the collector meets the full disk for a while
        acks_while_full = run.gen.acks - acks
        subprocess.run(["mount", "-o", "remount,size=1024m", mnt], check=True)
        if not pg.running():
            pg.start()
        resumed = run.wait_for_acks(more=5, seconds=120)
        if not resumed:
            run.problems.append("ingest did not resume after the disk was grown")
        return {"wal_tmpfs_mb": size_mb, "wal_full_seen": True,
                "postgres_panicked": "PANIC" in pg.log_text(),
                "acks_in_3s_after_full": acks_while_full,
                "seconds_until_ingest_resumed": round(time.monotonic() - t_full, 1)}
    return body


def run(ctx, seed):
    if os.geteuid() != 0:
        return skipped(NAME, "needs root to mount a small tmpfs for pg_wal; not run")
    pg = cluster.PgCluster()
    mnt = os.path.join(pg.dir, "walfs")
    try:
        pg.stop()
        try:
            size_mb = _move_wal_to_tmpfs(pg, mnt)
        except (subprocess.CalledProcessError, OSError) as e:
            return skipped(NAME, f"could not mount a tmpfs for pg_wal ({e}); not run")
        pg.start()
        return run_scenario(ctx, NAME, 1, _body(pg, mnt, size_mb), seed, pg=pg)
    finally:
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pg.stop_immediate()
        if os.path.ismount(mnt):
            subprocess.run(["umount", mnt], check=False)
        pg.destroy()
