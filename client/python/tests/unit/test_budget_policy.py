"""BudgetGuard without a collector: fail-open / fail-closed, counted and logged."""
import logging

import pytest

from stepledger import (ALLOW, REQUIRE_ACK, BudgetGuard, BudgetRequiresAck, BudgetUnavailable,
                        RunContext, step)


def run():
    return RunContext(feature="f", team="t", tenant="x", workload_class="interactive",
                      environment="production")


def test_fail_closed_is_the_default_and_never_allows(dead_target, caplog):
    guard = BudgetGuard(dead_target, timeout=1.0)
    with run(), caplog.at_level(logging.WARNING, logger="stepledger"):
        decision = guard.check(0.25)
        assert decision.decision == REQUIRE_ACK and not decision.checked
        assert not decision.allowed and decision.estimate_nano_usd == 250_000_000
        assert decision.unchecked_reason.startswith(("UNAVAILABLE", "DEADLINE_EXCEEDED"))
        with pytest.raises(BudgetUnavailable) as raised:
            guard.require(0.25)
        assert isinstance(raised.value, BudgetRequiresAck)
    assert guard.stats()["unchecked_fail_closed"] == 2
    assert any("failing closed" in r.message for r in caplog.records)


def test_fail_open_per_call_allows_and_is_counted_apart(dead_target):
    guard = BudgetGuard(dead_target, timeout=1.0)
    with run():
        decision = guard.check(0.25, fail="open")
        assert decision.decision == ALLOW and decision.allowed and not decision.checked
        guard.check(0.25)
    assert guard.stats() == {"unchecked_fail_open": 1, "unchecked_fail_closed": 1}


def test_fail_open_from_the_environment(dead_target, monkeypatch):
    monkeypatch.setenv("STEPLEDGER_BUDGET_FAIL", "open")
    guard = BudgetGuard(dead_target, timeout=1.0)
    with run():
        assert guard.check(1).decision == ALLOW


def test_reserve_fail_closed_raises_before_the_block_runs(dead_target):
    guard = BudgetGuard(dead_target, timeout=1.0)
    ran = []
    with run():
        with step("expensive") as s:
            with pytest.raises(BudgetUnavailable):
                with guard.reserve(0.5, s):
                    ran.append(True)
    assert ran == []


def test_bad_calls_are_errors_not_decisions(dead_target):
    guard = BudgetGuard(dead_target, timeout=1.0)
    with pytest.raises(ValueError, match="no tags"):
        guard.check(0.1)
    with run(), pytest.raises(ValueError, match="estimate_usd"):
        guard.check(-1)
    with run(), pytest.raises(ValueError, match="exactly one"):
        guard.check(0.1, estimate_nano_usd=5)
    with pytest.raises(ValueError, match="fail"):
        BudgetGuard(dead_target, fail="maybe")
