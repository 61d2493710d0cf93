"""The LiteLLM callback against payloads shaped as LiteLLM documents them: kwargs carry
"standard_logging_object" (StandardLoggingPayload: id, call_type, response_cost, status,
prompt/completion/total tokens, startTime/endTime as epoch seconds, model, model_group,
custom_llm_provider, metadata with requester_metadata, cache_hit, error_str, response) and
"litellm_params" (metadata, proxy_server_request). LiteLLM itself is not installed here."""
import asyncio
import datetime
import types

import pytest

from stepledger import (ALLOW, REQUIRE_ACK, BudgetDecision, BudgetRequiresAck, RunContext,
                        baggage, step)
from stepledger.integrations.litellm import StepledgerCallback
from stepledger.v1 import steps_pb2

TAGS = {"feature": "inbox-triage", "team": "mail-ai", "tenant": "acme",
        "workload_class": "interactive", "environment": "production", "run_id": "run-42",
        "parent_step_id": "s-planner", "name": "summarize"}


class ListRecorder:
    def __init__(self):
        self.events = []

    def record(self, event):
        self.events.append(event)
        return True


def payload(**overrides):
    p = {
        "id": "chatcmpl-9f2c", "trace_id": "tr-1", "call_type": "acompletion",
        "response_cost": 0.00123, "status": "success", "total_tokens": 1300,
        "prompt_tokens": 1200, "completion_tokens": 100,
        "startTime": 1764900000.25, "endTime": 1764900001.75, "completionStartTime": None,
        "model": "gpt-4o", "model_id": "dep-1", "model_group": "gpt-4o", "api_base": "",
        "custom_llm_provider": "openai", "cache_hit": False, "error_str": None,
        "metadata": {"user_api_key_team_id": "team-123",
                     "requester_metadata": {"stepledger": dict(TAGS)}},
        "response": {"model": "gpt-4o-2024-08-06",
                     "usage": {"prompt_tokens": 1200, "completion_tokens": 100,
                               "prompt_tokens_details": {"cached_tokens": 1000},
                               "completion_tokens_details": {"reasoning_tokens": 40}}},
    }
    p.update(overrides)
    return p


def kwargs_for(p, **extra):
    kw = {"model": p["model"], "litellm_call_id": p["id"], "standard_logging_object": p,
          "litellm_params": {"metadata": {}, "custom_llm_provider": "openai"}}
    kw.update(extra)
    return kw


def test_a_successful_call_becomes_a_step_with_reported_cost_and_disjoint_usage():
    rec = ListRecorder()
    cb = StepledgerCallback(recorder=rec)
    p = payload()
    cb.log_success_event(kwargs_for(p), None, datetime.datetime.now(), datetime.datetime.now())
    (e,) = rec.events
    assert e.event_id == "litellm-chatcmpl-9f2c" and e.step_id == "litellm-chatcmpl-9f2c"
    assert (e.tags.feature, e.tags.team, e.tags.tenant, e.tags.parent_run_id) == (
        "inbox-triage", "mail-ai", "acme", "run-42")
    assert e.tags.workload_class == steps_pb2.WORKLOAD_CLASS_INTERACTIVE
    assert e.tags.environment == steps_pb2.ENVIRONMENT_PRODUCTION
    assert e.parent_step_id == "s-planner" and e.name == "summarize"
    assert e.kind == steps_pb2.STEP_KIND_MODEL_CALL
    assert (e.provider, e.model) == ("openai", "gpt-4o-2024-08-06")  # the model that served
    assert e.cost_nano_usd == 1_230_000
    assert (e.usage.input_uncached_tokens, e.usage.cache_read_tokens, e.usage.output_tokens,
            e.usage.reasoning_tokens) == (200, 1000, 60, 40)
    assert e.started_at.ToNanoseconds() == 1764900000250000000
    assert e.ended_at.ToNanoseconds() == 1764900001750000000
    assert e.status == "ok" and e.attributes["litellm.requested_model"] == "gpt-4o"
    assert cb.counts["recorded"] == 1


def test_response_obj_usage_wins_and_the_same_call_logged_twice_has_the_same_event():
    rec = ListRecorder()
    cb = StepledgerCallback(recorder=rec)
    response_obj = types.SimpleNamespace(
        model="claude-sonnet-4", usage=types.SimpleNamespace(
            prompt_tokens=1500, completion_tokens=10, cache_creation_input_tokens=400,
            prompt_tokens_details=types.SimpleNamespace(cached_tokens=1000),
            completion_tokens_details=None))
    p = payload(custom_llm_provider="anthropic")
    asyncio.run(cb.async_log_success_event(kwargs_for(p), response_obj, None, None))
    asyncio.run(cb.async_log_success_event(kwargs_for(p), response_obj, None, None))
    first, second = rec.events
    assert first.SerializeToString(deterministic=True) == \
        second.SerializeToString(deterministic=True)  # a harmless duplicate for the collector
    assert (first.usage.input_uncached_tokens, first.usage.cache_read_tokens,
            first.usage.cache_write_tokens, first.usage.output_tokens) == (100, 1000, 400, 10)
    assert not first.usage.HasField("reasoning_tokens")
    assert first.model == "claude-sonnet-4"


def test_a_failed_call_is_recorded_as_error_with_its_cost():
    rec = ListRecorder()
    cb = StepledgerCallback(recorder=rec)
    p = payload(status="failure", response_cost=0.0, error_str="RateLimitError: 429",
                response=None, prompt_tokens=0, completion_tokens=0)
    cb.log_failure_event(kwargs_for(p), None, None, None)
    (e,) = rec.events
    assert e.status == "error" and e.cost_nano_usd == 0
    assert e.attributes["litellm.error"] == "RateLimitError: 429"


def test_no_cost_reported_leaves_the_cost_absent_for_the_collector_to_price():
    rec = ListRecorder()
    StepledgerCallback(recorder=rec).log_success_event(
        kwargs_for(payload(response_cost=None, response=None)), None, None, None)
    (e,) = rec.events
    assert not e.HasField("cost_nano_usd")
    assert (e.usage.input_uncached_tokens, e.usage.output_tokens) == (1200, 100)


def test_embedding_calls_are_embedding_steps():
    rec = ListRecorder()
    StepledgerCallback(recorder=rec).log_success_event(
        kwargs_for(payload(call_type="aembedding")), None, None, None)
    assert rec.events[0].kind == steps_pb2.STEP_KIND_EMBEDDING


def test_tags_from_baggage_on_the_proxied_request_then_defaults():
    with RunContext(feature="search", team="search-core", tenant="globex",
                    workload_class="batch", environment="staging", run_id="run-b"):
        with step("agent-step") as caller:
            headers = baggage.inject({})
    p = payload(metadata={"requester_metadata": {}})
    kw = kwargs_for(p, litellm_params={"metadata": {},
                                       "proxy_server_request": {"headers": headers}})
    rec = ListRecorder()
    StepledgerCallback(recorder=rec, default_tags={"feature": "unused", "tenant": "unused"}
                       ).log_success_event(kw, None, None, None)
    (e,) = rec.events
    assert (e.tags.feature, e.tags.tenant, e.tags.parent_run_id) == ("search", "globex",
                                                                     "run-b")
    assert e.parent_step_id == caller.step_id
    rec2 = ListRecorder()
    StepledgerCallback(recorder=rec2, default_tags={"environment": "eval", "team": "t"}
                       ).log_success_event(kwargs_for(p), None, None, None)
    assert rec2.events[0].tags.environment == steps_pb2.ENVIRONMENT_EVAL
    assert rec2.events[0].tags.team == "t"


def test_bad_usage_still_records_the_cost_and_is_counted():
    rec = ListRecorder()
    cb = StepledgerCallback(recorder=rec)
    p = payload(response={"usage": {"prompt_tokens": -3}})
    cb.log_success_event(kwargs_for(p), None, None, None)
    (e,) = rec.events
    assert e.cost_nano_usd == 1_230_000 and not e.HasField("usage")
    assert cb.counts["usage_errors"] == 1


def test_a_call_without_the_standard_payload_is_counted_not_raised(caplog):
    cb = StepledgerCallback(recorder=ListRecorder())
    cb.log_success_event({"model": "gpt-4o"}, None, None, None)
    assert cb.counts == {"recorded": 0, "skipped": 1, "usage_errors": 0, "refused": 0}


class FakeGuard:
    def __init__(self, decision):
        self.decision = decision
        self.calls = []

    def require(self, estimate_usd, **kwargs):
        self.calls.append((estimate_usd, kwargs))
        if not self.decision.allowed:
            raise BudgetRequiresAck(self.decision)
        return self.decision


def test_pre_call_hook_refuses_a_call_that_needs_acknowledgement():
    decision = BudgetDecision(decision=REQUIRE_ACK, checked=True, unchecked_reason="",
                              estimate_nano_usd=500_000_000)
    guard = FakeGuard(decision)
    cb = StepledgerCallback(guard=guard)
    data = {"model": "gpt-4o", "messages": [],
            "metadata": {"requester_metadata": {"stepledger": dict(TAGS, estimate_usd=0.5)}}}
    with pytest.raises(BudgetRequiresAck):
        asyncio.run(cb.async_pre_call_hook(None, None, data, "completion"))
    estimate, kwargs = guard.calls[0]
    assert estimate == 0.5 and kwargs["tags"].team == "mail-ai"
    assert kwargs["reserve"] is False
    assert cb.counts["refused"] == 1


def test_pre_call_hook_lets_an_allowed_call_through_and_reserves_when_given_a_step_id():
    guard = FakeGuard(BudgetDecision(decision=ALLOW, checked=True, unchecked_reason="",
                                     estimate_nano_usd=0))
    cb = StepledgerCallback(guard=guard, estimate_usd=lambda data, call_type: 0.02)
    data = {"metadata": {"stepledger": dict(TAGS, step_id="s-synth")}}
    assert asyncio.run(cb.async_pre_call_hook(None, None, data, "completion")) is data
    estimate, kwargs = guard.calls[0]
    assert estimate == 0.02 and kwargs["reserve"] is True and kwargs["step_id"] == "s-synth"
