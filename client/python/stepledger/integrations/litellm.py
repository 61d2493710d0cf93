"""A LiteLLM callback: every call the gateway logs becomes a stepledger step, and a pre-call
hook asks BudgetGuard before the call and refuses one that needs acknowledgement.

This module does not import litellm (it is not installable here); it implements the hooks of
LiteLLM's CustomLogger with their documented names and signatures and reads the documented
StandardLoggingPayload (kwargs["standard_logging_object"]). To register it with LiteLLM, mix
it into CustomLogger so LiteLLM's isinstance checks see it:

    from litellm.integrations.custom_logger import CustomLogger
    from stepledger.integrations.litellm import StepledgerCallback

    class Stepledger(StepledgerCallback, CustomLogger):
        pass

    litellm.callbacks = [Stepledger(recorder=Recorder(), guard=BudgetGuard())]

Tags come from the request's metadata: `metadata={"stepledger": {"feature": ..., "team": ...,
"tenant": ..., "workload_class": ..., "environment": ..., "run_id": ..., "parent_step_id":
..., "step_id": ..., "operation_id": ..., "attempt": ..., "name": ..., "estimate_usd": ...}}`,
found in the payload's metadata.requester_metadata (the proxy) or litellm_params.metadata (the
SDK); else from W3C baggage on the proxied request (stepledger.baggage); `default_tags` fill
what neither gives. The reported cost is response_cost; usage comes from the response's usage
object (details included) or, without one, the payload's prompt/completion token counts.
"""
import asyncio
import datetime
import logging
import threading
from decimal import Decimal

from google.protobuf import timestamp_pb2

from ..baggage import extract as extract_baggage
from ..money import usd_to_nano
from ..run_context import ENVIRONMENTS, STEP_KINDS, WORKLOAD_CLASSES, _enum
from ..usage import from_openai
from ..v1 import steps_pb2

log = logging.getLogger("stepledger")

_KINDS = {
    "completion": "model_call", "acompletion": "model_call", "text_completion": "model_call",
    "atext_completion": "model_call", "responses": "model_call", "aresponses": "model_call",
    "anthropic_messages": "model_call", "embedding": "embedding", "aembedding": "embedding",
    "rerank": "rerank", "arerank": "rerank",
}
_TAG_KEYS = ("feature", "team", "tenant", "workload_class", "environment", "run_id")
_MAX_ATTRIBUTE = 256


def _get(obj, key, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _stepledger_metadata(*sources):
    """The first `stepledger` dict found in the given metadata dicts."""
    for source in sources:
        value = _get(source, "stepledger")
        if isinstance(value, dict):
            return value
    return {}


def _timestamp(value):
    """A Timestamp from epoch seconds (the payload's startTime) or a datetime (the hook's
    start_time), or None."""
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:  # LiteLLM passes naive local times
            value = value.astimezone()
        ts.FromDatetime(value.astimezone(datetime.timezone.utc))
    else:
        # Through the float's shortest decimal form: 1764900000.25 is exactly .25 s, not the
        # binary float's .2499998 s.
        ts.FromNanoseconds(int(Decimal(repr(float(value))) * 10**9))
    return ts


class StepledgerCallback:
    """LiteLLM CustomLogger hooks that record steps through `recorder` and check budgets
    through `guard`. Counters (stats()): recorded, skipped (no payload), usage_errors,
    refused (pre-call REQUIRE_ACK)."""

    def __init__(self, recorder=None, guard=None, default_tags=None, estimate_usd=None,
                 **kwargs):
        """default_tags: a dict of tag name -> value applied when a request gives none.
        estimate_usd(data, call_type) -> float: the pre-call estimate when the request's
        metadata has no estimate_usd (default 0: is the cap already exhausted?)."""
        super().__init__(**kwargs)  # cooperative: CustomLogger.__init__ when mixed in
        self.recorder = recorder
        self.guard = guard
        self.default_tags = dict(default_tags or {})
        self.estimate_usd = estimate_usd
        self.counts = {"recorded": 0, "skipped": 0, "usage_errors": 0, "refused": 0}
        self._counts_lock = threading.Lock()  # LiteLLM calls the sync hooks from many threads

    def _count(self, key):
        with self._counts_lock:
            self.counts[key] += 1

    # ----- documented CustomLogger hooks -----

    def log_pre_api_call(self, model, messages, kwargs):
        pass

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        pass

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs, response_obj, start_time, end_time)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs, response_obj, start_time, end_time)

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        # Recorder.record never waits with on_full="drop"; it is safe on the event loop.
        self._record(kwargs, response_obj, start_time, end_time)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self._record(kwargs, response_obj, start_time, end_time)

    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        """Checks the budget for the request's tags; raises BudgetRequiresAck (LiteLLM then
        refuses the call) on REQUIRE_ACK, or BudgetUnavailable when fail-closed and the
        service is unreachable. Returns `data` unchanged otherwise."""
        if self.guard is None:
            return data
        metadata = _get(data, "metadata") or {}
        ours = _stepledger_metadata(metadata, _get(metadata, "requester_metadata"),
                                    _get(data, "litellm_metadata"))
        estimate = ours.get("estimate_usd")
        if estimate is None:
            estimate = self.estimate_usd(data, call_type) if self.estimate_usd else 0
        tags = self._tags(ours, None)
        step_id = ours.get("step_id", "")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, lambda: self.guard.require(
                estimate, tags=tags, reserve=bool(step_id), step_id=step_id))
        except Exception:
            self._count("refused")
            raise
        return data

    # ----- the step -----

    def event_from_call(self, kwargs, response_obj, start_time, end_time):
        """The StepEvent for one logged call, or None when there is no standard payload."""
        payload = kwargs.get("standard_logging_object")
        if not payload:
            return None
        litellm_params = kwargs.get("litellm_params") or {}
        metadata = payload.get("metadata") or {}
        ours = _stepledger_metadata(metadata.get("requester_metadata"), metadata,
                                    litellm_params.get("metadata"))
        headers = _get(litellm_params.get("proxy_server_request"), "headers") or {}
        call_id = str(payload.get("id") or kwargs.get("litellm_call_id") or "")
        call_type = payload.get("call_type") or ""
        event = steps_pb2.StepEvent(
            event_id=f"litellm-{call_id}",
            tags=self._tags(ours, headers),
            step_id=str(ours.get("step_id") or f"litellm-{call_id}"),
            parent_step_id=str(ours.get("parent_step_id") or
                               self._baggage_parent(headers) or ""),
            kind=_enum(STEP_KINDS, _KINDS.get(call_type, "other"), "kind"),
            name=str(ours.get("name") or call_type or "llm_call"),
            provider=str(payload.get("custom_llm_provider") or
                         litellm_params.get("custom_llm_provider") or ""),
            model=str(_get(response_obj, "model") or
                      _get(payload.get("response"), "model") or payload.get("model") or ""),
            status="ok" if payload.get("status", "success") == "success" else "error",
            operation_id=str(ours.get("operation_id") or ""),
            attempt=int(ours.get("attempt") or 1))
        cost = payload.get("response_cost")
        if cost is not None:
            event.cost_nano_usd = usd_to_nano(cost, "response_cost")
        usage = self._usage(payload, response_obj)
        if usage is not None:
            event.usage.CopyFrom(usage)
        started = _timestamp(payload.get("startTime")) or _timestamp(start_time)
        ended = _timestamp(payload.get("endTime")) or _timestamp(end_time)
        if started is not None:
            event.started_at.CopyFrom(started)
        if ended is not None and (started is None or
                                  ended.ToNanoseconds() >= started.ToNanoseconds()):
            event.ended_at.CopyFrom(ended)
        attributes = {"litellm.call_type": call_type,
                      "litellm.requested_model": payload.get("model"),
                      "litellm.model_group": payload.get("model_group"),
                      "litellm.cache_hit": payload.get("cache_hit"),
                      "litellm.error": payload.get("error_str")}
        for key, value in attributes.items():
            if value not in (None, ""):
                event.attributes[key] = str(value)[:_MAX_ATTRIBUTE]
        return event

    def _record(self, kwargs, response_obj, start_time, end_time):
        # A logging callback must never break the gateway's call: failures are counted and
        # logged, not raised.
        try:
            event = self.event_from_call(kwargs, response_obj, start_time, end_time)
        except Exception:  # noqa: BLE001
            self._count("skipped")
            log.exception("stepledger: could not turn a LiteLLM call into a step")
            return
        if event is None:
            self._count("skipped")
            log.warning("stepledger: LiteLLM call without standard_logging_object; not recorded")
            return
        if self.recorder is not None and self.recorder.record(event):
            self._count("recorded")

    def _usage(self, payload, response_obj):
        source = _get(response_obj, "usage") or _get(payload.get("response"), "usage")
        if source is None and payload.get("prompt_tokens") is not None:
            source = {"prompt_tokens": payload.get("prompt_tokens"),
                      "completion_tokens": payload.get("completion_tokens")}
        if source is None:
            return None
        try:
            return from_openai(source)
        except ValueError as e:
            # The cost is still worth recording; the usage is not trustworthy.
            self._count("usage_errors")
            log.warning("stepledger: LiteLLM usage not recorded: %s", e)
            return None

    def _tags(self, ours, headers):
        remote = extract_baggage(headers) if headers else None
        values = {}
        for key in _TAG_KEYS:
            value = ours.get(key)
            if value in (None, "") and remote is not None:
                value = {"feature": remote.feature, "team": remote.team,
                         "tenant": remote.tenant, "run_id": remote.run_id,
                         "workload_class": remote.workload_class or "",
                         "environment": remote.environment or ""}[key]
            if value in (None, ""):
                value = self.default_tags.get(key, "")
            values[key] = value
        return steps_pb2.Tags(
            feature=str(values["feature"]), team=str(values["team"]),
            tenant=str(values["tenant"]),
            workload_class=_enum(WORKLOAD_CLASSES, values["workload_class"],
                                 "tags.workload_class"),
            environment=_enum(ENVIRONMENTS, values["environment"], "tags.environment"),
            parent_run_id=str(values["run_id"]))

    @staticmethod
    def _baggage_parent(headers):
        remote = extract_baggage(headers) if headers else None
        return remote.parent_step_id if remote is not None else ""
