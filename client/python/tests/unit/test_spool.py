"""The on-disk spool: append, ack, replay after a restart or a kill -9."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from stepledger.spool import Spool, SpoolLockedError


def test_replay_returns_only_unacked_events_in_order(tmp_path):
    spool = Spool(str(tmp_path))
    refs = [spool.append(f"event-{i}".encode()) for i in range(5)]
    spool.ack([refs[0], refs[2]])
    assert spool.pending() == 3
    spool.close()
    again = Spool(str(tmp_path))
    assert [data for _, data in again.replay()] == [b"event-1", b"event-3", b"event-4"]
    assert again.replay() == []  # handed out once
    again.close()


def test_a_torn_last_record_is_ignored_and_the_rest_replayed(tmp_path):
    spool = Spool(str(tmp_path))
    spool.append(b"complete")
    spool.close()
    (segment,) = [p for p in tmp_path.iterdir() if p.suffix == ".log"]
    with open(segment, "ab") as f:
        f.write(b"\x40\x00\x00\x00\x00\x00\x00\x00half")  # a header promising 64 bytes
    again = Spool(str(tmp_path))
    assert [data for _, data in again.replay()] == [b"complete"]
    again.close()


def test_fully_acked_segments_are_deleted(tmp_path):
    spool = Spool(str(tmp_path), segment_bytes=64)
    refs = [spool.append(b"x" * 40) for _ in range(4)]  # one record per segment
    spool.ack(refs)
    spool.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LOCK"]


def test_one_writer_per_directory(tmp_path):
    spool = Spool(str(tmp_path))
    with pytest.raises(SpoolLockedError, match="in use"):
        Spool(str(tmp_path))
    spool.close()
    Spool(str(tmp_path)).close()


def test_events_written_before_a_kill_9_are_replayed(tmp_path):
    child = textwrap.dedent(f"""
        import os, signal
        from stepledger.spool import Spool
        spool = Spool({str(tmp_path)!r})
        refs = [spool.append(b"event-%d" % i) for i in range(100)]
        spool.ack(refs[:40])
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", child], timeout=30)
    assert result.returncode == -signal.SIGKILL
    spool = Spool(str(tmp_path))  # the dead process's flock is gone with it
    assert [d for _, d in spool.replay()] == [b"event-%d" % i for i in range(40, 100)]
    spool.close()
