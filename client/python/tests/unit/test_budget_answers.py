"""BudgetGuard against an in-process fake Budget service: answers become decisions, refusals
become errors (never ALLOW), the API key travels as a bearer token."""
import concurrent.futures

import grpc
import pytest

from stepledger import (ALERT, BudgetCheckError, BudgetGuard, BudgetRequiresAck, RunContext)
from stepledger.v1 import budget_pb2, budget_pb2_grpc


class FakeBudget(budget_pb2_grpc.BudgetServicer):
    def __init__(self, answer):
        self.answer = answer
        self.requests = []
        self.metadata = []

    def CheckBudget(self, request, context):
        self.requests.append(request)
        self.metadata.append(dict(context.invocation_metadata()))
        if isinstance(self.answer, grpc.StatusCode):
            context.abort(self.answer, "tags.team: missing")
        return self.answer


@pytest.fixture
def budget_target():
    servers = []

    def start(servicer):
        server = grpc.server(concurrent.futures.ThreadPoolExecutor(4))
        budget_pb2_grpc.add_BudgetServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for server in servers:
        server.stop(0)


def run():
    return RunContext(feature="f", team="t", tenant="x", workload_class="interactive",
                      environment="production", run_id="run-1")


def cap(decision, **kw):
    return budget_pb2.CapStatus(cap_id="t-daily", owner="lead", decision=decision,
                                limit_nano_usd=10**9, spent_nano_usd=9 * 10**8, **kw)


def test_an_answer_becomes_a_decision_with_every_cap(budget_target):
    fake = FakeBudget(budget_pb2.CheckBudgetResponse(
        decision=budget_pb2.DECISION_ALERT, deciding_cap_id="t-daily",
        caps=[cap(budget_pb2.DECISION_ALERT)]))
    guard = BudgetGuard(budget_target(fake), api_key="slk_k")
    with run():
        decision = guard.check(0.01)
    assert decision.decision == ALERT and decision.allowed and decision.checked
    assert [c.cap_id for c in decision.caps] == ["t-daily"]
    request = fake.requests[0]
    assert request.estimated_cost_nano_usd == 10_000_000 and request.tags.parent_run_id == "run-1"
    assert fake.metadata[0]["authorization"] == "Bearer slk_k"
    assert guard.stats() == {"alert": 1}


def test_require_ack_raises_with_the_caps_to_acknowledge_and_ignores_shadow_caps(budget_target):
    fake = FakeBudget(budget_pb2.CheckBudgetResponse(
        decision=budget_pb2.DECISION_REQUIRE_ACK, deciding_cap_id="t-daily",
        caps=[cap(budget_pb2.DECISION_REQUIRE_ACK),
              cap(budget_pb2.DECISION_REQUIRE_ACK, shadow=True)]))
    guard = BudgetGuard(budget_target(fake))
    with run(), pytest.raises(BudgetRequiresAck) as raised:
        guard.require(0.5)
    assert [c.cap_id for c in raised.value.decision.caps_to_acknowledge()] == ["t-daily"]
    assert "cap t-daily (owner lead)" in str(raised.value)


@pytest.mark.parametrize("code", [grpc.StatusCode.INVALID_ARGUMENT,
                                  grpc.StatusCode.PERMISSION_DENIED,
                                  grpc.StatusCode.UNAUTHENTICATED])
def test_a_refused_check_is_an_error_even_when_failing_open(budget_target, code):
    guard = BudgetGuard(budget_target(FakeBudget(code)), fail="open")
    with run(), pytest.raises(BudgetCheckError) as raised:
        guard.check(0.5)
    assert raised.value.code == code and "tags.team" in str(raised.value)
    assert guard.stats() == {"errors": 1}


def test_an_answer_without_a_decision_is_an_error_not_an_allow(budget_target):
    guard = BudgetGuard(budget_target(FakeBudget(budget_pb2.CheckBudgetResponse())),
                        fail="open")
    with run(), pytest.raises(BudgetCheckError, match="without a decision"):
        guard.check(0.5)


def test_a_stale_answer_says_how_old_its_counters_are_and_still_stops(budget_target):
    fake = FakeBudget(budget_pb2.CheckBudgetResponse(
        decision=budget_pb2.DECISION_REQUIRE_ACK, deciding_cap_id="t-daily",
        counters_as_of_unix_millis=1_767_225_600_250, counters_age_millis=13_400, stale=True,
        caps=[cap(budget_pb2.DECISION_REQUIRE_ACK, stale_policy=budget_pb2.STALE_POLICY_REQUIRE_ACK,
                  stale_policy_applied=True)]))
    guard = BudgetGuard(budget_target(fake))
    with run():
        decision = guard.check(0.01)
        with pytest.raises(BudgetRequiresAck):
            guard.require(0.01)
    assert decision.checked and decision.stale and not decision.allowed
    assert decision.counters_age_s == pytest.approx(13.4)
    assert decision.counters_as_of.isoformat() == "2026-01-01T00:00:00.250000+00:00"
    assert decision.caps[0].stale_policy_applied


def test_a_fresh_answer_is_not_stale(budget_target):
    fake = FakeBudget(budget_pb2.CheckBudgetResponse(
        decision=budget_pb2.DECISION_ALLOW, counters_as_of_unix_millis=1_767_225_600_000,
        counters_age_millis=300))
    with run():
        decision = BudgetGuard(budget_target(fake)).check(0.01)
    assert not decision.stale and decision.counters_age_s == pytest.approx(0.3)
    assert decision.counters_as_of is not None
