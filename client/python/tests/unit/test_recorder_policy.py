"""Recorder without a collector: the buffer-full policy, counters, and closing."""
import logging
import time

import pytest

from stepledger import Recorder, StepEvent


def event(i):
    return StepEvent(event_id=f"ev-{i}", step_id=f"s-{i}", name="x")


def test_drop_policy_drops_at_once_counts_and_logs(dead_target, caplog):
    rec = Recorder(dead_target, max_buffer=3, on_full="drop", close_on_exit=False)
    with caplog.at_level(logging.WARNING, logger="stepledger"):
        started = time.monotonic()
        results = [rec.record(event(i)) for i in range(5)]
        assert time.monotonic() - started < 0.5  # never waits
    assert results == [True, True, True, False, False]
    stats = rec.stats()
    assert (stats.recorded, stats.dropped, stats.pending) == (3, 2, 3)
    assert any("dropped an event: buffer full" in r.message for r in caplog.records)
    assert rec.close(timeout=0.5) is False
    assert rec.stats().lost == 3  # no spool: unacked events are lost, and counted


def test_block_policy_waits_for_room_up_to_the_timeout_then_drops(dead_target):
    rec = Recorder(dead_target, max_buffer=1, on_full="block", block_timeout=0.3,
                   close_on_exit=False)
    assert rec.record(event(1))
    started = time.monotonic()
    assert rec.record(event(2)) is False
    assert 0.25 <= time.monotonic() - started < 2.0
    assert rec.stats().dropped == 1
    rec.close(timeout=0.2)


def test_record_after_close_is_dropped_and_counted(dead_target):
    rec = Recorder(dead_target, close_on_exit=False)
    rec.close(timeout=0.2)
    assert rec.record(event(1)) is False
    assert rec.stats().dropped == 1


def test_an_event_without_id_gets_one_before_it_is_buffered(dead_target):
    rec = Recorder(dead_target, close_on_exit=False)
    e = StepEvent(step_id="s", name="x")
    assert rec.record(e)
    assert e.event_id.startswith("ev-")
    rec.close(timeout=0.2)


def test_flush_times_out_while_the_collector_is_unreachable(dead_target):
    rec = Recorder(dead_target, close_on_exit=False, backoff_max=0.2)
    rec.record(event(1))
    started = time.monotonic()
    assert rec.flush(timeout=0.5) is False
    assert time.monotonic() - started < 2.0
    assert rec.stats().stream_failures >= 1
    assert "UNAVAILABLE" in rec.stats().last_error
    rec.close(timeout=0.2)


def test_bad_settings_name_the_setting(dead_target, monkeypatch):
    with pytest.raises(ValueError, match="batch_size"):
        Recorder(dead_target, batch_size=1001, close_on_exit=False)
    with pytest.raises(ValueError, match="on_full"):
        Recorder(dead_target, on_full="wait", close_on_exit=False)
    monkeypatch.setenv("STEPLEDGER_ON_FULL", "sometimes")
    with pytest.raises(ValueError, match="STEPLEDGER_ON_FULL"):
        Recorder(dead_target, close_on_exit=False)
    monkeypatch.setenv("STEPLEDGER_ON_FULL", "drop")
    monkeypatch.setenv("STEPLEDGER_BATCH_SIZE", "ten")
    with pytest.raises(ValueError, match="STEPLEDGER_BATCH_SIZE"):
        Recorder(dead_target, close_on_exit=False)


def test_a_spool_write_that_fails_refuses_the_event_loudly(dead_target, tmp_path, caplog):
    rec = Recorder(dead_target, spool_dir=str(tmp_path / "spool"), close_on_exit=False)
    rec._spool.append = lambda data: (_ for _ in ()).throw(OSError(28, "No space left"))
    with caplog.at_level(logging.WARNING, logger="stepledger"):
        assert rec.record(event(1)) is False
    assert rec.stats().dropped == 1 and rec.stats().pending == 0
    assert any("spool write failed" in r.message for r in caplog.records)
    rec.close(timeout=0.2)


def test_flush_with_nothing_recorded_is_immediately_true(dead_target):
    rec = Recorder(dead_target, close_on_exit=False)
    assert rec.flush(timeout=0.1) is True
    rec.close(timeout=0.2)
    assert rec.flush(timeout=0.1) is True
