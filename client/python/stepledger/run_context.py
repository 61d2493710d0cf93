"""RunContext and Step: run and step ids, the six tags and the parent step, carried through
nested calls with contextvars.

    with RunContext(feature="inbox-triage", team="mail-ai", tenant="acme",
                    workload_class="interactive", environment="production"):
        with step("planner", kind="model_call", recorder=recorder) as s:
            s.model, s.cost_usd = "gpt-4o", 0.0042
            with step("search_docs", kind="tool_call", recorder=recorder) as tool:
                ...   # recorded as a child of "planner"

A step made inside another step (same thread or asyncio task) is its child. asyncio tasks copy
the context when created, so parallel tool calls under asyncio.gather are children of the step
that gathered them. Threads do not: wrap work handed to a thread pool with `bind(fn)`.

Thread safety: a RunContext is immutable once made; a Step belongs to the code that opened it.
"""
import contextvars
import datetime
import functools
import uuid

from google.protobuf import timestamp_pb2

from .money import usd_to_nano
from .v1 import steps_pb2

_current_run = contextvars.ContextVar("stepledger_run", default=None)
_current_step = contextvars.ContextVar("stepledger_step", default=None)

WORKLOAD_CLASSES = {
    "interactive": steps_pb2.WORKLOAD_CLASS_INTERACTIVE,
    "batch": steps_pb2.WORKLOAD_CLASS_BATCH,
    "eval": steps_pb2.WORKLOAD_CLASS_EVAL,
    "background": steps_pb2.WORKLOAD_CLASS_BACKGROUND,
}
ENVIRONMENTS = {
    "production": steps_pb2.ENVIRONMENT_PRODUCTION,
    "staging": steps_pb2.ENVIRONMENT_STAGING,
    "eval": steps_pb2.ENVIRONMENT_EVAL,
}
STEP_KINDS = {
    "model_call": steps_pb2.STEP_KIND_MODEL_CALL,
    "tool_call": steps_pb2.STEP_KIND_TOOL_CALL,
    "retrieval": steps_pb2.STEP_KIND_RETRIEVAL,
    "embedding": steps_pb2.STEP_KIND_EMBEDDING,
    "rerank": steps_pb2.STEP_KIND_RERANK,
    "other": steps_pb2.STEP_KIND_OTHER,
}


def _enum(table, value, field):
    """A name from `table` (or an enum number already) -> the enum number; "" -> unspecified."""
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        if value in table.values():
            return value
    elif isinstance(value, str) and value.lower() in table:
        return table[value.lower()]
    raise ValueError(f"{field}: {value!r} is not one of {', '.join(table)}")


def new_id(prefix=""):
    """A random id, 32 hex digits after the prefix (fits the 128-byte limit of every id)."""
    return prefix + uuid.uuid4().hex


class RunContext:
    """One agent run: its id and the six tags its steps carry.

    The tags' forms (slugs, tenant ids) are checked by the collector, which names the field in
    its rejection; here only the two enums are converted (a name that is not one of them is a
    ValueError naming the field). `parent_step_id` is for a run continued in another service
    (see stepledger.baggage.extract): top-level steps opened in this context become children
    of that step.
    """

    def __init__(self, *, feature="", team="", tenant="", workload_class="",
                 environment="", run_id=None, parent_step_id=""):
        self.run_id = run_id or new_id("run-")
        self.feature = feature
        self.team = team
        self.tenant = tenant
        self.workload_class = _enum(WORKLOAD_CLASSES, workload_class, "tags.workload_class")
        self.environment = _enum(ENVIRONMENTS, environment, "tags.environment")
        self.parent_step_id = parent_step_id or ""
        self._tokens = []

    def tags(self):
        """The six tags as a stepledger.v1.Tags message."""
        return steps_pb2.Tags(feature=self.feature, team=self.team, tenant=self.tenant,
                              workload_class=self.workload_class,
                              environment=self.environment, parent_run_id=self.run_id)

    def step(self, name, kind="other", **fields):
        """A Step of this run (see Step); the parent is the current step, if any."""
        return Step(name, kind, run=self, **fields)

    def __enter__(self):
        # A run entered inside a step of another run starts a fresh tree: no parent step.
        self._tokens.append((_current_run.set(self), _current_step.set(None)))
        return self

    def __exit__(self, *exc):
        run_token, step_token = self._tokens.pop()
        _current_step.reset(step_token)
        _current_run.reset(run_token)
        return False

    def __repr__(self):
        return f"RunContext(run_id={self.run_id!r}, feature={self.feature!r}, team={self.team!r})"


def current_run():
    """The RunContext entered in this context, or None."""
    return _current_run.get()


def current_step():
    """The innermost Step open in this context, or None."""
    return _current_step.get()


def step(name, kind="other", **fields):
    """A Step of the current run; ValueError when no RunContext is entered."""
    run = _current_run.get()
    if run is None:
        raise ValueError("step: no RunContext is entered; use `with RunContext(...):` first")
    return Step(name, kind, run=run, **fields)


def bind(fn):
    """fn wrapped to run in (a copy of) the calling context: use it when handing work to a
    thread pool, so steps opened there have the right run and parent."""
    ctx = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_context(*args, **kwargs):
        # A copy per call: one Context cannot be entered by two threads at once.
        return ctx.copy().run(fn, *args, **kwargs)

    return run_in_context


def _timestamp(dt):
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(dt)
    return ts


class Step:
    """One step of a run: a context manager that times the step and, on exit, records its
    StepEvent through `recorder` (if given). Set what the call reported on the object:

        with step("synthesis", kind="model_call", recorder=rec) as s:
            response = client.chat.completions.create(...)
            s.provider, s.model = "openai", response.model
            s.usage = usage.from_openai(response.usage)
            s.cost_usd = 0.0123           # or cost_nano_usd; absent: the collector prices it

    The event id is made once, when the Step is created, so recording the same Step's event
    again (to_event() is deterministic) is an idempotent re-send. status is "ok", or "error"
    when the block raised (the exception still propagates).
    """

    _FIELDS = ("provider", "model", "usage", "cost_usd", "cost_nano_usd", "tool_name",
               "tool_owner_team", "status", "operation_id", "attempt", "attributes",
               "service_tier", "tool_units", "step_id", "parent_step_id", "event_id",
               "recorder")

    def __init__(self, name, kind="other", *, run, **fields):
        unknown = set(fields) - set(self._FIELDS)
        if unknown:
            raise TypeError(f"step: unknown field(s) {', '.join(sorted(unknown))}")
        self.run = run
        self.name = name
        self.kind = _enum(STEP_KINDS, kind, "kind")
        parent = _current_step.get()
        if parent is not None and parent.run is not run:
            parent = None
        self.step_id = fields.pop("step_id", None) or new_id("s-")
        self.parent_step_id = fields.pop("parent_step_id", None) or (
            parent.step_id if parent is not None else run.parent_step_id)
        self.event_id = fields.pop("event_id", None) or new_id("ev-")
        self.recorder = fields.pop("recorder", None)
        self.provider = ""
        self.model = ""
        self.usage = None
        self.cost_usd = None
        self.cost_nano_usd = None
        self.tool_name = ""
        self.tool_owner_team = ""
        self.status = ""
        self.operation_id = ""
        self.attempt = 1
        self.attributes = {}
        self.service_tier = ""
        self.tool_units = None
        for key, value in fields.items():
            setattr(self, key, value)
        self.started_at = None
        self.ended_at = None
        self._token = None

    def __enter__(self):
        self.started_at = datetime.datetime.now(datetime.timezone.utc)
        self._token = _current_step.set(self)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.ended_at = datetime.datetime.now(datetime.timezone.utc)
        _current_step.reset(self._token)
        if not self.status:
            self.status = "error" if exc_type is not None else "ok"
        if self.recorder is not None:
            self.recorder.record(self.to_event())
        return False

    def to_event(self):
        """The StepEvent for this step, with the run's tags."""
        event = steps_pb2.StepEvent(
            event_id=self.event_id, tags=self.run.tags(), step_id=self.step_id,
            parent_step_id=self.parent_step_id, kind=self.kind, name=self.name,
            provider=self.provider, model=self.model, tool_name=self.tool_name,
            tool_owner_team=self.tool_owner_team, status=self.status,
            operation_id=self.operation_id, attempt=self.attempt,
            service_tier=self.service_tier)
        if self.usage is not None:
            event.usage.CopyFrom(self.usage)
        if self.cost_nano_usd is not None:
            event.cost_nano_usd = int(self.cost_nano_usd)
        elif self.cost_usd is not None:
            event.cost_nano_usd = usd_to_nano(self.cost_usd, "cost_usd")
        if self.tool_units is not None:
            event.tool_units = int(self.tool_units)
        if self.started_at is not None:
            event.started_at.CopyFrom(_timestamp(self.started_at))
        if self.ended_at is not None:
            event.ended_at.CopyFrom(_timestamp(self.ended_at))
        for key, value in self.attributes.items():
            event.attributes[str(key)] = str(value)
        return event
